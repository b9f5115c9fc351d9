ALTER TABLE "contacts" ADD COLUMN "external_ids" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "credit_limit" numeric(18, 2);--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "credit_currency" text;--> statement-breakpoint
ALTER TABLE "opportunities" ADD COLUMN "external_ids" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "contacts_updated_idx" ON "contacts" USING btree ("updated_at","id");--> statement-breakpoint
-- custom:
-- Credit status takes the values api.md names; a stored value outside them (free text from before) is kept when
-- it is one of them in another case, else cleared (the ERP sends it again).
UPDATE "customers" SET "credit_status" = CASE WHEN upper(btrim("credit_status")) IN ('GOOD', 'WATCH', 'BLOCKED') THEN upper(btrim("credit_status")) END
WHERE "credit_status" IS NOT NULL AND "credit_status" NOT IN ('GOOD', 'WATCH', 'BLOCKED');--> statement-breakpoint
-- The built-in partner and marketing roles hide the new credit fields and the external ids of contacts and
-- opportunities as they hide the customer's; roles whose hidden fields an admin has changed stay as they are.
UPDATE roles SET hidden_fields = ARRAY['customer.creditStatus', 'customer.creditLimit', 'customer.creditCurrency', 'customer.externalIds', 'customer.valueClass', 'contact.externalIds', 'opportunity.externalIds']::text[], version = version + 1, updated_at = now()
WHERE built_in AND name IN ('partner_manager', 'partner_sales') AND hidden_fields = ARRAY['customer.creditStatus', 'customer.externalIds', 'customer.valueClass']::text[];--> statement-breakpoint
UPDATE roles SET hidden_fields = ARRAY['customer.creditStatus', 'customer.creditLimit', 'customer.creditCurrency']::text[], version = version + 1, updated_at = now()
WHERE built_in AND name = 'marketing' AND hidden_fields = ARRAY['customer.creditStatus']::text[];
