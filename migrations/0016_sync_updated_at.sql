ALTER TABLE "delegations" ADD COLUMN "updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "delegations_updated_idx" ON "delegations" USING btree ("updated_at","id");--> statement-breakpoint
CREATE INDEX "api_keys_updated_idx" ON "api_keys" USING btree ("updated_at","id");--> statement-breakpoint
-- custom: a record's last change so far is its revocation, if any, else its creation.
UPDATE "delegations" SET "updated_at" = coalesce("revoked_at", "created_at");--> statement-breakpoint
UPDATE "api_keys" SET "updated_at" = coalesce("revoked_at", "created_at");
