CREATE INDEX "orders_number_idx" ON "orders" USING btree ("number");--> statement-breakpoint
-- custom:
-- Orders (domain.md §8) are read by every role that reads customers (within the same visibility) and written by the
-- integrated systems: the stored built-in roles gain the permissions the code ships. Idempotent; admin (*:*) and
-- executive (*:read) already hold them.
UPDATE roles SET permissions = permissions || ARRAY['orders:read']::text[], version = version + 1, updated_at = now()
WHERE built_in AND name IN ('manager', 'marketing', 'sales', 'service', 'partner_manager', 'partner_sales', 'integration')
  AND NOT ('orders:read' = ANY(permissions));--> statement-breakpoint
UPDATE roles SET permissions = permissions || ARRAY['orders:create', 'orders:update']::text[], version = version + 1, updated_at = now()
WHERE built_in AND name = 'integration' AND NOT ('orders:create' = ANY(permissions));
