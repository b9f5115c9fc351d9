import t from 'tap';
import { requestIdHeader } from '../../src/modules/events/webhooks.delivery.js';

// A webhook request carries the event's request id as `x-request-id`, when the event has one.
t.test('x-request-id from the delivered event', async (t) => {
  t.same(requestIdHeader({ id: 'e1', requestId: 'erp-sync-42' }), { 'x-request-id': 'erp-sync-42' });
  t.same(requestIdHeader({ id: 'e1', requestId: null }), {}, 'none for job-queue work');
  t.same(requestIdHeader({ id: 'e1' }), {}, 'none for deliveries stored before request ids were recorded');
  t.same(requestIdHeader({ id: 'e1', requestId: '' }), {}, 'never an empty header');
  t.same(requestIdHeader(null), {});
});
