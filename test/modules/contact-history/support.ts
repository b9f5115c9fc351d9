// Helpers of the contact history tests (not a test file itself); shared factories live in test/helpers.

export const INTERACTION_FIELDS = 'id customerId contactId opportunityId channel direction occurredAt subject notes outcome actorId onBehalfOfId version createdAt updatedAt';
