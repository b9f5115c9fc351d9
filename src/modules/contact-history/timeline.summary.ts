import type { TimelineType } from './contact-history.schemas.js';

const words = (s: unknown) => (typeof s === 'string' ? s.toLowerCase().replaceAll('_', ' ') : '');
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** A short human sentence for one timeline entry, from its kind and data (pure, no lookups). */
export function summaryOf(type: TimelineType, d: Record<string, unknown>): string {
  switch (type) {
    case 'INTERACTION': {
      const head = `${d.direction === 'INBOUND' ? 'Inbound' : 'Outbound'} ${words(d.channel)}`;
      const subject = str(d.subject);
      return subject ? `${head}: ${subject}` : head;
    }
    case 'LIFECYCLE_TRANSITION':
      return `Lifecycle stage changed from ${d.from} to ${d.to}${str(d.reason) ? ` (${d.reason})` : ''}`;
    case 'OWNERSHIP_CHANGE':
      return `Ownership of the ${words(d.entityType) || 'record'} changed by ${words(d.cause) || 'reassignment'}`;
    case 'HANDOFF_CREATED':
      return `Handed off for sales, due ${d.dueAt}`;
    case 'HANDOFF_ACCEPTED':
      return 'Handoff accepted';
    case 'HANDOFF_REJECTED':
      return `Handoff rejected${str(d.reason) ? `: ${d.reason}` : ''}`;
    case 'HANDOFF_ESCALATED':
      return 'Handoff deadline missed: escalated';
    case 'STAGE_TRANSITION': {
      const name = str(d.opportunityName) ?? 'Opportunity';
      return d.fromStageKey ? `${name} moved from ${d.fromStageKey} to ${d.toStageKey}` : `${name} entered ${d.toStageKey}`;
    }
    case 'CLAIM_REGISTERED':
      return d.opportunityId ? 'Deal registered (claim pending)' : 'Customer registered (claim pending)';
    case 'CLAIM_APPROVED':
      return `Claim approved: protected until ${d.protectedUntil}`;
    case 'CLAIM_REJECTED':
      return `Claim rejected${str(d.reason) ? `: ${d.reason}` : ''}`;
    case 'CLAIM_EXPIRED':
      return 'Claim protection ended';
    case 'ORDER': {
      const what = str(d.number) ? `Order ${d.number}` : 'Order';
      return `${what} placed: ${d.amount} ${d.currency} (${words(d.status)})`;
    }
    case 'COST_RECORDED':
      return `Cost recorded: ${words(d.kind)} ${d.amount} ${d.currency}${str(d.note) ? ` (${d.note})` : ''}`;
    case 'REFERENCE_EFFECT_SET':
      return `Reference effect rated ${d.level} of 5${str(d.reason) ? `: ${d.reason}` : ''}`;
    case 'VALUE_CLASS_CHANGED':
      return d.from ? (d.to ? `Value class changed from ${d.from} to ${d.to}` : `Value class ${d.from} removed`) : `Value class ${d.to} given`;
  }
}
