-- The built-in partner roles hide the company's system fields (external ids, credit, value) by default.
-- Roles whose hidden fields an admin has changed since are left as they are.
UPDATE roles SET hidden_fields = ARRAY['customer.creditStatus', 'customer.externalIds', 'customer.valueClass']::text[], version = version + 1, updated_at = now()
WHERE built_in AND name IN ('partner_manager', 'partner_sales') AND hidden_fields = ARRAY['customer.creditStatus']::text[];
