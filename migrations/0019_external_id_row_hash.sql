ALTER TABLE "external_ids" ADD COLUMN "row_hash" text;--> statement-breakpoint
ALTER TABLE "external_ids" ADD COLUMN "row_version" integer;