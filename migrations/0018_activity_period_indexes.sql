CREATE INDEX "interactions_occurred_idx" ON "interactions" USING btree ("occurred_at","customer_id","actor_id");--> statement-breakpoint
CREATE INDEX "interactions_actor_occurred_idx" ON "interactions" USING btree ("actor_id","occurred_at","customer_id");--> statement-breakpoint
CREATE INDEX "actions_done_idx" ON "actions" USING btree ("completed_at") WHERE "actions"."status" = 'DONE';