CREATE TABLE "customer_last_contact" (
	"customer_id" uuid PRIMARY KEY NOT NULL,
	"last_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customer_last_contact" ADD CONSTRAINT "customer_last_contact_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "interactions_complaint_idx" ON "interactions" USING btree ("customer_id","occurred_at") WHERE upper(btrim("interactions"."outcome")) = 'COMPLAINT';--> statement-breakpoint
-- custom:
-- The last contact of each customer, kept by the interactions' writes. One statement-level trigger per
-- event (transition tables allow one event each), each set-based: a bulk insert upserts one row per
-- customer it touched; an update recomputes the customers of the rows whose customer or time changed
-- (the old and the new customer of a merged row), a delete the customers of the deleted rows. The
-- recomputation is one grouped read of those customers' interactions, by interactions_customer_idx for
-- a few customers.
CREATE OR REPLACE FUNCTION keel_last_contact_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO customer_last_contact AS l (customer_id, last_at)
    SELECT n.customer_id, max(n.occurred_at) FROM keel_new_interactions n GROUP BY 1 ORDER BY 1
  ON CONFLICT (customer_id) DO UPDATE SET last_at = excluded.last_at WHERE l.last_at < excluded.last_at;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION keel_last_contact_refresh(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH latest AS (
    SELECT t.customer_id, m.last_at FROM unnest(ids) AS t(customer_id)
    LEFT JOIN (SELECT i.customer_id, max(i.occurred_at) AS last_at FROM interactions i WHERE i.customer_id IN (SELECT unnest(ids)) GROUP BY 1) m ON m.customer_id = t.customer_id
  ), gone AS (
    DELETE FROM customer_last_contact l USING latest WHERE l.customer_id = latest.customer_id AND latest.last_at IS NULL
  )
  INSERT INTO customer_last_contact AS l (customer_id, last_at)
    SELECT customer_id, last_at FROM latest WHERE last_at IS NOT NULL ORDER BY 1
  ON CONFLICT (customer_id) DO UPDATE SET last_at = excluded.last_at WHERE l.last_at IS DISTINCT FROM excluded.last_at;
END;
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION keel_last_contact_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids uuid[];
BEGIN
  WITH moved AS (
    SELECT o.customer_id AS was, n.customer_id AS now_at FROM keel_old_interactions o JOIN keel_new_interactions n ON n.id = o.id
    WHERE o.customer_id IS DISTINCT FROM n.customer_id OR o.occurred_at IS DISTINCT FROM n.occurred_at
  )
  SELECT array_agg(DISTINCT x) INTO ids FROM (SELECT was FROM moved UNION ALL SELECT now_at FROM moved) AS u(x);
  IF ids IS NOT NULL THEN PERFORM keel_last_contact_refresh(ids); END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION keel_last_contact_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids uuid[];
BEGIN
  SELECT array_agg(DISTINCT o.customer_id) INTO ids FROM keel_old_interactions o;
  IF ids IS NOT NULL THEN PERFORM keel_last_contact_refresh(ids); END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER interactions_last_contact_inserted AFTER INSERT ON interactions REFERENCING NEW TABLE AS keel_new_interactions
  FOR EACH STATEMENT EXECUTE FUNCTION keel_last_contact_inserted();--> statement-breakpoint
CREATE TRIGGER interactions_last_contact_updated AFTER UPDATE ON interactions REFERENCING OLD TABLE AS keel_old_interactions NEW TABLE AS keel_new_interactions
  FOR EACH STATEMENT EXECUTE FUNCTION keel_last_contact_updated();--> statement-breakpoint
CREATE TRIGGER interactions_last_contact_deleted AFTER DELETE ON interactions REFERENCING OLD TABLE AS keel_old_interactions
  FOR EACH STATEMENT EXECUTE FUNCTION keel_last_contact_deleted();--> statement-breakpoint
INSERT INTO customer_last_contact (customer_id, last_at)
  SELECT customer_id, max(occurred_at) FROM interactions GROUP BY 1 ORDER BY 1;
