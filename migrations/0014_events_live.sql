ALTER TABLE "events" ADD COLUMN "request_id" text;--> statement-breakpoint
-- custom:
-- Live updates: a statement that writes events wakes every instance listening on `keel_events` when
-- its transaction commits (PostgreSQL sends a notification at commit, never for a rolled-back one, and
-- folds the identical notifications of one transaction into one). The payload is empty: a listener
-- reads the feed, which alone decides order and visibility.
CREATE OR REPLACE FUNCTION keel_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('keel_events', '');
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION keel_events_notify();
