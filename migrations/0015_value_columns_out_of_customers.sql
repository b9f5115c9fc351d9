DROP INDEX "customers_value_class_idx";--> statement-breakpoint
DROP INDEX "customers_value_score_idx";--> statement-breakpoint
DROP INDEX "customers_churn_risk_idx";--> statement-breakpoint
CREATE INDEX "customer_values_churn_idx" ON "customer_values" USING btree ("churn_level");--> statement-breakpoint
ALTER TABLE "customers" DROP COLUMN "value_class";--> statement-breakpoint
ALTER TABLE "customers" DROP COLUMN "value_score";--> statement-breakpoint
ALTER TABLE "customers" DROP COLUMN "churn_risk";