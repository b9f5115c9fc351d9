CREATE TABLE "customer_costs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" text NOT NULL,
	"incurred_at" timestamp (3) with time zone NOT NULL,
	"note" text,
	"actor_id" uuid NOT NULL,
	"on_behalf_of_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_value_history" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"score" numeric(5, 2) NOT NULL,
	"value_class" text,
	"previous_class" text,
	"previous_score" numeric(5, 2),
	"model_version" integer NOT NULL,
	"cause" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_values" (
	"customer_id" uuid PRIMARY KEY NOT NULL,
	"model_version" integer NOT NULL,
	"revenue" numeric(18, 2) DEFAULT '0' NOT NULL,
	"expected_sales" numeric(18, 2) DEFAULT '0' NOT NULL,
	"cost" numeric(18, 2) DEFAULT '0' NOT NULL,
	"reference_level" smallint DEFAULT 0 NOT NULL,
	"credit_status" text,
	"score" numeric(5, 2) NOT NULL,
	"value_class" text,
	"churn_level" text DEFAULT 'NONE' NOT NULL,
	"churn_signals" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"computed_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reference_effects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"level" smallint NOT NULL,
	"reason" text NOT NULL,
	"actor_id" uuid NOT NULL,
	"on_behalf_of_id" uuid,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "value_models" (
	"version" integer PRIMARY KEY NOT NULL,
	"config" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "value_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"model_version" integer NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"ranked" integer DEFAULT 0 NOT NULL,
	"a_min_score" numeric(5, 2),
	"c_max_score" numeric(5, 2),
	"changed" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "value_score" numeric(5, 2);--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "churn_risk" text;--> statement-breakpoint
ALTER TABLE "customer_costs" ADD CONSTRAINT "customer_costs_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_costs" ADD CONSTRAINT "customer_costs_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_costs" ADD CONSTRAINT "customer_costs_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_value_history" ADD CONSTRAINT "customer_value_history_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_values" ADD CONSTRAINT "customer_values_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reference_effects" ADD CONSTRAINT "reference_effects_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reference_effects" ADD CONSTRAINT "reference_effects_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reference_effects" ADD CONSTRAINT "reference_effects_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "value_models" ADD CONSTRAINT "value_models_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_costs_customer_idx" ON "customer_costs" USING btree ("customer_id","incurred_at","id");--> statement-breakpoint
CREATE INDEX "customer_costs_created_idx" ON "customer_costs" USING btree ("customer_id","created_at","id");--> statement-breakpoint
CREATE INDEX "customer_costs_actor_idx" ON "customer_costs" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "customer_costs_behalf_idx" ON "customer_costs" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE INDEX "customer_value_history_customer_idx" ON "customer_value_history" USING btree ("customer_id","at","id");--> statement-breakpoint
CREATE INDEX "customer_value_history_at_idx" ON "customer_value_history" USING btree ("at");--> statement-breakpoint
CREATE INDEX "customer_values_class_idx" ON "customer_values" USING btree ("value_class","score");--> statement-breakpoint
CREATE INDEX "reference_effects_customer_idx" ON "reference_effects" USING btree ("customer_id","at","id");--> statement-breakpoint
CREATE INDEX "reference_effects_actor_idx" ON "reference_effects" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "reference_effects_behalf_idx" ON "reference_effects" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE INDEX "customers_value_score_idx" ON "customers" USING btree ("value_score","id");--> statement-breakpoint
CREATE INDEX "customers_churn_risk_idx" ON "customers" USING btree ("churn_risk");--> statement-breakpoint
-- custom:
-- The model in force until an admin changes it (version 1: the documented defaults of docs/customer-value.md).
INSERT INTO "value_models" ("version", "config") VALUES (1, '{"weights":{"revenue":45,"expectedSales":20,"referenceEffect":10,"credit":10,"cost":15},"revenueHalf":50000,"expectedSalesHalf":50000,"costHalf":5000,"trailingMonths":12,"aPercent":5,"cPercent":20,"churn":{"noContactDays":90,"orderWindowDays":180,"orderDropPercent":50,"complaintWindowDays":180,"complaints":2,"lostDealWindowDays":365,"lostDeals":1,"highSignals":2}}'::jsonb) ON CONFLICT DO NOTHING;--> statement-breakpoint
-- A built-in role that hides the value class hides the value score with it; the built-in partner roles also hide the
-- churn risk (it is read off the company's credit and value data). Custom roles are the admins' to change.
UPDATE roles SET hidden_fields = array_append(hidden_fields, 'customer.valueScore'), version = version + 1, updated_at = now()
WHERE built_in AND 'customer.valueClass' = ANY(hidden_fields) AND NOT ('customer.valueScore' = ANY(hidden_fields));--> statement-breakpoint
UPDATE roles SET hidden_fields = array_append(hidden_fields, 'customer.churnRisk'), version = version + 1, updated_at = now()
WHERE built_in AND name IN ('partner_manager', 'partner_sales') AND 'customer.valueClass' = ANY(hidden_fields) AND NOT ('customer.churnRisk' = ANY(hidden_fields));
