ALTER TABLE "opportunities" ADD COLUMN "created_stage_id" uuid;--> statement-breakpoint
-- Backfill: the stage a deal was created in is its first transition's origin, or its current stage
-- when it never moved (the rule the pipeline reports applied when reading the history).
UPDATE "opportunities" o SET "created_stage_id" = COALESCE(
  (SELECT st."from_stage_id" FROM "stage_transitions" st WHERE st."opportunity_id" = o."id" ORDER BY st."at", st."id" LIMIT 1),
  o."stage_id");--> statement-breakpoint
ALTER TABLE "opportunities" ALTER COLUMN "created_stage_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "opportunities" ADD CONSTRAINT "opportunities_created_stage_id_pipeline_stages_id_fk" FOREIGN KEY ("created_stage_id") REFERENCES "public"."pipeline_stages"("id") ON DELETE no action ON UPDATE no action;
