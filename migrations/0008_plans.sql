CREATE TABLE "plans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"unit_id" uuid NOT NULL,
	"pipeline_id" uuid NOT NULL,
	"name" text,
	"period_start" date NOT NULL,
	"period_end" date NOT NULL,
	"target_amount" numeric(18, 2) NOT NULL,
	"currency" text NOT NULL,
	"average_won_amount" numeric(18, 2),
	"required" jsonb NOT NULL,
	"rates" jsonb NOT NULL,
	"measurement" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_unit_id_org_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "plans_unit_idx" ON "plans" USING btree ("unit_id","created_at","id");--> statement-breakpoint
CREATE INDEX "plans_pipeline_idx" ON "plans" USING btree ("pipeline_id");--> statement-breakpoint
CREATE INDEX "plans_created_by_idx" ON "plans" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "plans_created_idx" ON "plans" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "opportunities_closed_idx" ON "opportunities" USING btree ("closed_at");--> statement-breakpoint
CREATE INDEX "stage_transitions_at_idx" ON "stage_transitions" USING btree ("at");--> statement-breakpoint
-- custom:
-- Heads of units (the company's managers and partner managers) make and read their units' plans.
UPDATE roles SET permissions = permissions || ARRAY['plans:read', 'plans:create']::text[], version = version + 1, updated_at = now()
WHERE built_in AND name IN ('manager', 'partner_manager') AND NOT ('plans:read' = ANY(permissions));
