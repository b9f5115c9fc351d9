// The customers module's public surface: the only file other modules import. The customers row,
// contact persons, lifecycle transitions and the ownership history of every record are this
// module's tables; others change them only through the functions below, in their own transaction.
export { customersRoutes } from './customers.routes.js';
export { customerLoaders, customerResolvers } from './customers.resolvers.js';
export { type CreateAllocator, createCustomerService, type CustomerService, type DuplicateGuard, type MergeRepoint, toCustomerDto } from './customers.service.js';
export { customersRepository } from './customers.repository.js';
export { applyLifecycleSteps, applyLifecycleTransition, changeCustomerOwner, type LifecycleCause, type LifecycleStep } from './customer-moves.js';
export { type CustomerRow, type Move, type Owner, ownershipRepository, transferWrites } from './ownership.repository.js';
export { resolveOwner, type ResolvedOwner } from './owner-resolution.js';
export { INITIAL_STAGE, isBackward, isBefore, LEAD_STAGES, LIFECYCLE_STAGES, type LifecycleStage, stageRank, stagesFrom } from './lifecycle-stages.js';
export { type CreateContactInput, type CreateCustomerInput, type CustomerDto, SOURCE_CHANNELS } from './customers.schemas.js';
export { normalizeEmail, normalizeName, normalizePhone, normalizeRegistrationId } from './normalize.js';
export { externalIdsDiff } from './customer-rules.js';
export { customerRefSchema, externalIdFilter, externalIdsPatchSchema, externalIdsSchema, externalParams, upsertQuery } from './customers.schemas.js';
export { fromUpsertBody, ON_DUPLICATE, type OnDuplicate, parseBody, type Upserted, type UpsertStatus } from './upsert-rules.js';
export { heldExternalId } from './customers.repository.js';
export { contactSchema, customerSchema, listAllContactsQuery, upsertContactBody, upsertCustomerBody } from './customers.schemas.js';
export { type BulkUpsertItem } from './bulk-write.js';
export { type BulkContactItem } from './contacts-bulk.js';
