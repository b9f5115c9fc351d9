CREATE TABLE "transfers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"from_user_id" uuid NOT NULL,
	"to_user_id" uuid,
	"to_unit_id" uuid NOT NULL,
	"counts" jsonb NOT NULL,
	"actor_id" uuid NOT NULL,
	"on_behalf_of_id" uuid,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "interaction_revisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"interaction_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"snapshot" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"edited_by" uuid NOT NULL,
	"on_behalf_of_id" uuid,
	"edited_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "interactions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"contact_id" uuid,
	"opportunity_id" uuid,
	"channel" text NOT NULL,
	"direction" text NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"subject" text,
	"notes" text,
	"outcome" text,
	"actor_id" uuid NOT NULL,
	"on_behalf_of_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "handoffs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"from_user_id" uuid NOT NULL,
	"from_unit_id" uuid NOT NULL,
	"to_user_id" uuid,
	"to_unit_id" uuid NOT NULL,
	"due_at" timestamp (3) with time zone NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"note" text,
	"reason" text,
	"decided_by" uuid,
	"decided_at" timestamp (3) with time zone,
	"escalated_at" timestamp (3) with time zone,
	"escalated_to_id" uuid,
	"on_behalf_of_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lifecycle_transitions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"from_stage" text NOT NULL,
	"to_stage" text NOT NULL,
	"reason" text,
	"cause" text DEFAULT 'MANUAL' NOT NULL,
	"actor_id" uuid NOT NULL,
	"on_behalf_of_id" uuid,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ownership_changes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"from_user_id" uuid,
	"from_unit_id" uuid,
	"to_user_id" uuid,
	"to_unit_id" uuid,
	"cause" text NOT NULL,
	"transfer_id" uuid,
	"actor_id" uuid NOT NULL,
	"on_behalf_of_id" uuid,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "actions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"opportunity_id" uuid,
	"customer_id" uuid NOT NULL,
	"title" text NOT NULL,
	"key" text,
	"notes" text,
	"due_at" timestamp (3) with time zone,
	"value" smallint DEFAULT 3 NOT NULL,
	"urgency" smallint DEFAULT 3 NOT NULL,
	"status" text DEFAULT 'OPEN' NOT NULL,
	"kind" text DEFAULT 'PLANNED' NOT NULL,
	"handoff_id" uuid,
	"assignee_id" uuid NOT NULL,
	"owner_unit_id" uuid NOT NULL,
	"completed_at" timestamp (3) with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid,
	"on_behalf_of_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "opportunities" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"pipeline_id" uuid NOT NULL,
	"stage_id" uuid NOT NULL,
	"name" text NOT NULL,
	"amount" numeric(18, 2),
	"currency" text,
	"expected_close_date" date,
	"status" text DEFAULT 'OPEN' NOT NULL,
	"qualification" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"lost_reason" text,
	"competitor" text,
	"stage_entered_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp (3) with time zone,
	"owner_user_id" uuid,
	"owner_unit_id" uuid NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pipeline_stages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pipeline_id" uuid NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"position" integer NOT NULL,
	"probability" integer NOT NULL,
	"terminal" boolean DEFAULT false NOT NULL,
	"outcome" text,
	"gates" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pipelines" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"unit_id" uuid,
	"product_line" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stage_transitions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"opportunity_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"from_stage_id" uuid,
	"to_stage_id" uuid NOT NULL,
	"reason" text,
	"lost_reason" text,
	"competitor" text,
	"seconds_in_from_stage" integer,
	"actor_id" uuid NOT NULL,
	"on_behalf_of_id" uuid,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_from_user_id_users_id_fk" FOREIGN KEY ("from_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_to_user_id_users_id_fk" FOREIGN KEY ("to_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_to_unit_id_org_units_id_fk" FOREIGN KEY ("to_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interaction_revisions" ADD CONSTRAINT "interaction_revisions_interaction_id_interactions_id_fk" FOREIGN KEY ("interaction_id") REFERENCES "public"."interactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interaction_revisions" ADD CONSTRAINT "interaction_revisions_edited_by_users_id_fk" FOREIGN KEY ("edited_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interaction_revisions" ADD CONSTRAINT "interaction_revisions_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interactions" ADD CONSTRAINT "interactions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interactions" ADD CONSTRAINT "interactions_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interactions" ADD CONSTRAINT "interactions_opportunity_id_opportunities_id_fk" FOREIGN KEY ("opportunity_id") REFERENCES "public"."opportunities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interactions" ADD CONSTRAINT "interactions_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interactions" ADD CONSTRAINT "interactions_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_from_user_id_users_id_fk" FOREIGN KEY ("from_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_from_unit_id_org_units_id_fk" FOREIGN KEY ("from_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_to_user_id_users_id_fk" FOREIGN KEY ("to_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_to_unit_id_org_units_id_fk" FOREIGN KEY ("to_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_escalated_to_id_users_id_fk" FOREIGN KEY ("escalated_to_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoffs" ADD CONSTRAINT "handoffs_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lifecycle_transitions" ADD CONSTRAINT "lifecycle_transitions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lifecycle_transitions" ADD CONSTRAINT "lifecycle_transitions_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lifecycle_transitions" ADD CONSTRAINT "lifecycle_transitions_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_changes" ADD CONSTRAINT "ownership_changes_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_changes" ADD CONSTRAINT "ownership_changes_from_user_id_users_id_fk" FOREIGN KEY ("from_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_changes" ADD CONSTRAINT "ownership_changes_from_unit_id_org_units_id_fk" FOREIGN KEY ("from_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_changes" ADD CONSTRAINT "ownership_changes_to_user_id_users_id_fk" FOREIGN KEY ("to_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_changes" ADD CONSTRAINT "ownership_changes_to_unit_id_org_units_id_fk" FOREIGN KEY ("to_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_changes" ADD CONSTRAINT "ownership_changes_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ownership_changes" ADD CONSTRAINT "ownership_changes_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_opportunity_id_opportunities_id_fk" FOREIGN KEY ("opportunity_id") REFERENCES "public"."opportunities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_assignee_id_users_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_owner_unit_id_org_units_id_fk" FOREIGN KEY ("owner_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opportunities" ADD CONSTRAINT "opportunities_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opportunities" ADD CONSTRAINT "opportunities_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opportunities" ADD CONSTRAINT "opportunities_stage_id_pipeline_stages_id_fk" FOREIGN KEY ("stage_id") REFERENCES "public"."pipeline_stages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opportunities" ADD CONSTRAINT "opportunities_owner_user_id_users_id_fk" FOREIGN KEY ("owner_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opportunities" ADD CONSTRAINT "opportunities_owner_unit_id_org_units_id_fk" FOREIGN KEY ("owner_unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opportunities" ADD CONSTRAINT "opportunities_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pipeline_stages" ADD CONSTRAINT "pipeline_stages_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pipelines" ADD CONSTRAINT "pipelines_unit_id_org_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."org_units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_transitions" ADD CONSTRAINT "stage_transitions_opportunity_id_opportunities_id_fk" FOREIGN KEY ("opportunity_id") REFERENCES "public"."opportunities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_transitions" ADD CONSTRAINT "stage_transitions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_transitions" ADD CONSTRAINT "stage_transitions_from_stage_id_pipeline_stages_id_fk" FOREIGN KEY ("from_stage_id") REFERENCES "public"."pipeline_stages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_transitions" ADD CONSTRAINT "stage_transitions_to_stage_id_pipeline_stages_id_fk" FOREIGN KEY ("to_stage_id") REFERENCES "public"."pipeline_stages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_transitions" ADD CONSTRAINT "stage_transitions_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_transitions" ADD CONSTRAINT "stage_transitions_on_behalf_of_id_users_id_fk" FOREIGN KEY ("on_behalf_of_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "transfers_from_idx" ON "transfers" USING btree ("from_user_id");--> statement-breakpoint
CREATE INDEX "transfers_to_user_idx" ON "transfers" USING btree ("to_user_id");--> statement-breakpoint
CREATE INDEX "transfers_to_unit_idx" ON "transfers" USING btree ("to_unit_id");--> statement-breakpoint
CREATE INDEX "transfers_actor_idx" ON "transfers" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "transfers_behalf_idx" ON "transfers" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE INDEX "interaction_revisions_interaction_idx" ON "interaction_revisions" USING btree ("interaction_id","version");--> statement-breakpoint
CREATE INDEX "interaction_revisions_edited_by_idx" ON "interaction_revisions" USING btree ("edited_by");--> statement-breakpoint
CREATE INDEX "interaction_revisions_behalf_idx" ON "interaction_revisions" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE INDEX "interactions_customer_idx" ON "interactions" USING btree ("customer_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "interactions_opportunity_idx" ON "interactions" USING btree ("opportunity_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "interactions_contact_idx" ON "interactions" USING btree ("contact_id");--> statement-breakpoint
CREATE INDEX "interactions_actor_idx" ON "interactions" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "interactions_behalf_idx" ON "interactions" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE INDEX "handoffs_customer_idx" ON "handoffs" USING btree ("customer_id","created_at","id");--> statement-breakpoint
CREATE INDEX "handoffs_to_user_idx" ON "handoffs" USING btree ("to_user_id","status");--> statement-breakpoint
CREATE INDEX "handoffs_to_unit_idx" ON "handoffs" USING btree ("to_unit_id","status");--> statement-breakpoint
CREATE INDEX "handoffs_from_user_idx" ON "handoffs" USING btree ("from_user_id","status");--> statement-breakpoint
CREATE INDEX "handoffs_due_idx" ON "handoffs" USING btree ("status","due_at");--> statement-breakpoint
CREATE INDEX "handoffs_from_unit_idx" ON "handoffs" USING btree ("from_unit_id");--> statement-breakpoint
CREATE INDEX "handoffs_decided_by_idx" ON "handoffs" USING btree ("decided_by");--> statement-breakpoint
CREATE INDEX "handoffs_escalated_to_idx" ON "handoffs" USING btree ("escalated_to_id");--> statement-breakpoint
CREATE INDEX "handoffs_behalf_idx" ON "handoffs" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE UNIQUE INDEX "handoffs_one_pending_idx" ON "handoffs" USING btree ("customer_id") WHERE "handoffs"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "lifecycle_transitions_customer_idx" ON "lifecycle_transitions" USING btree ("customer_id","at","id");--> statement-breakpoint
CREATE INDEX "lifecycle_transitions_at_idx" ON "lifecycle_transitions" USING btree ("at");--> statement-breakpoint
CREATE INDEX "lifecycle_transitions_actor_idx" ON "lifecycle_transitions" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "lifecycle_transitions_behalf_idx" ON "lifecycle_transitions" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE INDEX "ownership_changes_customer_idx" ON "ownership_changes" USING btree ("customer_id","at","id");--> statement-breakpoint
CREATE INDEX "ownership_changes_entity_idx" ON "ownership_changes" USING btree ("entity_type","entity_id");--> statement-breakpoint
CREATE INDEX "ownership_changes_transfer_idx" ON "ownership_changes" USING btree ("transfer_id");--> statement-breakpoint
CREATE INDEX "ownership_changes_from_user_idx" ON "ownership_changes" USING btree ("from_user_id");--> statement-breakpoint
CREATE INDEX "ownership_changes_to_user_idx" ON "ownership_changes" USING btree ("to_user_id");--> statement-breakpoint
CREATE INDEX "ownership_changes_from_unit_idx" ON "ownership_changes" USING btree ("from_unit_id");--> statement-breakpoint
CREATE INDEX "ownership_changes_to_unit_idx" ON "ownership_changes" USING btree ("to_unit_id");--> statement-breakpoint
CREATE INDEX "ownership_changes_actor_idx" ON "ownership_changes" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "ownership_changes_behalf_idx" ON "ownership_changes" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE INDEX "actions_assignee_idx" ON "actions" USING btree ("assignee_id","status","due_at");--> statement-breakpoint
CREATE INDEX "actions_owner_unit_idx" ON "actions" USING btree ("owner_unit_id");--> statement-breakpoint
CREATE INDEX "actions_opportunity_idx" ON "actions" USING btree ("opportunity_id","created_at","id");--> statement-breakpoint
CREATE INDEX "actions_customer_idx" ON "actions" USING btree ("customer_id","created_at","id");--> statement-breakpoint
CREATE INDEX "actions_key_idx" ON "actions" USING btree ("opportunity_id","key");--> statement-breakpoint
CREATE UNIQUE INDEX "actions_handoff_idx" ON "actions" USING btree ("handoff_id");--> statement-breakpoint
CREATE INDEX "actions_created_by_idx" ON "actions" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "actions_behalf_idx" ON "actions" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE INDEX "opportunities_customer_idx" ON "opportunities" USING btree ("customer_id","created_at","id");--> statement-breakpoint
CREATE INDEX "opportunities_pipeline_idx" ON "opportunities" USING btree ("pipeline_id");--> statement-breakpoint
CREATE INDEX "opportunities_stage_idx" ON "opportunities" USING btree ("stage_id","created_at","id");--> statement-breakpoint
CREATE INDEX "opportunities_status_idx" ON "opportunities" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "opportunities_owner_user_idx" ON "opportunities" USING btree ("owner_user_id");--> statement-breakpoint
CREATE INDEX "opportunities_owner_unit_idx" ON "opportunities" USING btree ("owner_unit_id");--> statement-breakpoint
CREATE INDEX "opportunities_created_idx" ON "opportunities" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "opportunities_updated_idx" ON "opportunities" USING btree ("updated_at","id");--> statement-breakpoint
CREATE INDEX "opportunities_close_idx" ON "opportunities" USING btree ("expected_close_date","id");--> statement-breakpoint
CREATE INDEX "opportunities_amount_idx" ON "opportunities" USING btree ("amount","id");--> statement-breakpoint
CREATE INDEX "opportunities_created_by_idx" ON "opportunities" USING btree ("created_by");--> statement-breakpoint
CREATE UNIQUE INDEX "pipeline_stages_key_idx" ON "pipeline_stages" USING btree ("pipeline_id","key");--> statement-breakpoint
CREATE INDEX "pipeline_stages_position_idx" ON "pipeline_stages" USING btree ("pipeline_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "pipelines_single_default_idx" ON "pipelines" USING btree ((true)) WHERE "pipelines"."is_default";--> statement-breakpoint
CREATE INDEX "pipelines_unit_idx" ON "pipelines" USING btree ("unit_id");--> statement-breakpoint
CREATE INDEX "stage_transitions_opportunity_idx" ON "stage_transitions" USING btree ("opportunity_id","at","id");--> statement-breakpoint
CREATE INDEX "stage_transitions_customer_idx" ON "stage_transitions" USING btree ("customer_id","at","id");--> statement-breakpoint
CREATE INDEX "stage_transitions_from_idx" ON "stage_transitions" USING btree ("from_stage_id");--> statement-breakpoint
CREATE INDEX "stage_transitions_to_idx" ON "stage_transitions" USING btree ("to_stage_id");--> statement-breakpoint
CREATE INDEX "stage_transitions_actor_idx" ON "stage_transitions" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "stage_transitions_behalf_idx" ON "stage_transitions" USING btree ("on_behalf_of_id");--> statement-breakpoint
CREATE INDEX "delegations_created_by_idx" ON "delegations" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "delegations_created_idx" ON "delegations" USING btree ("created_at","id");