CREATE TABLE "allocation_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"order" integer NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"match" jsonb NOT NULL,
	"target_unit_id" uuid,
	"target_user_id" uuid,
	"strategy" text NOT NULL,
	"capacity_per_user" integer,
	"last_user_id" uuid,
	"created_by" uuid NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "claims" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"opportunity_id" uuid,
	"claimant_user_id" uuid NOT NULL,
	"claimant_unit_id" uuid NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"note" text,
	"reason" text,
	"protected_until" timestamp (3) with time zone,
	"decided_by" uuid,
	"decided_at" timestamp (3) with time zone,
	"expired_at" timestamp (3) with time zone,
	"on_behalf_of_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "allocation_rules" ADD CONSTRAINT "allocation_rules_target_unit_id_org_units_id_fk" FOREIGN KEY ("target_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "allocation_rules" ADD CONSTRAINT "allocation_rules_target_user_id_users_id_fk" FOREIGN KEY ("target_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "allocation_rules" ADD CONSTRAINT "allocation_rules_last_user_id_users_id_fk" FOREIGN KEY ("last_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "allocation_rules" ADD CONSTRAINT "allocation_rules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_opportunity_id_opportunities_id_fk" FOREIGN KEY ("opportunity_id") REFERENCES "public"."opportunities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_claimant_user_id_users_id_fk" FOREIGN KEY ("claimant_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_claimant_unit_id_org_units_id_fk" FOREIGN KEY ("claimant_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "claims" ADD CONSTRAINT "claims_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "allocation_rules_order_idx" ON "allocation_rules" USING btree ("order","id");--> statement-breakpoint
CREATE INDEX "allocation_rules_target_unit_idx" ON "allocation_rules" USING btree ("target_unit_id");--> statement-breakpoint
CREATE INDEX "allocation_rules_target_user_idx" ON "allocation_rules" USING btree ("target_user_id");--> statement-breakpoint
CREATE INDEX "allocation_rules_last_user_idx" ON "allocation_rules" USING btree ("last_user_id");--> statement-breakpoint
CREATE INDEX "allocation_rules_created_by_idx" ON "allocation_rules" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "claims_customer_idx" ON "claims" USING btree ("customer_id","status");--> statement-breakpoint
CREATE INDEX "claims_opportunity_idx" ON "claims" USING btree ("opportunity_id");--> statement-breakpoint
CREATE INDEX "claims_claimant_user_idx" ON "claims" USING btree ("claimant_user_id","status");--> statement-breakpoint
CREATE INDEX "claims_claimant_unit_idx" ON "claims" USING btree ("claimant_unit_id","status");--> statement-breakpoint
CREATE INDEX "claims_created_idx" ON "claims" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "claims_due_idx" ON "claims" USING btree ("status","protected_until");--> statement-breakpoint
CREATE INDEX "claims_decided_by_idx" ON "claims" USING btree ("decided_by");--> statement-breakpoint
CREATE INDEX "claims_behalf_idx" ON "claims" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE UNIQUE INDEX "claims_one_approved_idx" ON "claims" USING btree ("customer_id") WHERE "claims"."status" = 'APPROVED';--> statement-breakpoint
-- custom:
-- The built-in roles gain deal registration (claims) and allocation rules; a role that already names a
-- permission keeps it once. Admin (*:*) and executive (*:read) hold them through their wildcards.
UPDATE roles SET permissions = permissions || ARRAY(SELECT x FROM unnest(ARRAY['claims:read', 'claims:create', 'claims:approve', 'allocation-rules:read', 'allocation-rules:create', 'allocation-rules:update', 'allocation-rules:delete']::text[]) x WHERE NOT x = ANY(permissions)), version = version + 1, updated_at = now()
WHERE built_in AND name IN ('manager', 'partner_manager') AND NOT ('claims:approve' = ANY(permissions));--> statement-breakpoint
UPDATE roles SET permissions = permissions || ARRAY(SELECT x FROM unnest(ARRAY['claims:read', 'claims:create', 'allocation-rules:read']::text[]) x WHERE NOT x = ANY(permissions)), version = version + 1, updated_at = now()
WHERE built_in AND name IN ('marketing', 'sales', 'partner_sales') AND NOT ('claims:create' = ANY(permissions));
