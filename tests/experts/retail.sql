-- Expert checks for the built-in `retail` dataset (docs/datasets/retail.md).
--
-- DuckDB SQL over the generated Parquet files. Placeholders, filled in by benchmarks/expert_checks.py:
--   {dir}    the generated dataset's folder (customers.parquet, orders.parquet, ...)
--   {ref}    this folder (tests/experts), for reference tables such as nanp_area_codes.csv
--   {vocab}  src/esdh/packs/vocab (us_zips.csv)
--   {as_of}  the dataset's as_of date (from datapackage.json), e.g. 2026-01-01
--
-- One query per rule, each introduced by a `-- name:` line whose name matches the rule's id in the doc
-- (R01 ...), with `-- kind:` impossible (a single row is an error) or implausible (a rate or a statistic
-- outside the range an expert accepts). Every query returns one row: `violations` and `total` (for a
-- statistic, violations is 1 when it is out of range, total 1) and optionally `value` (the statistic).
-- Rules marked `-- needs:` read columns the dataset does not have yet (expected names given there):
-- the runner reports them as "column missing" until the columns exist.

-- name: R01_customer_phone_nanp_format
-- kind: impossible
SELECT count(*) FILTER (WHERE NOT regexp_full_match(phone, '\([2-9][0-9]{2}\) [2-9][0-9]{2}-[0-9]{4}')
                           OR substr(phone, 3, 2) = '11' OR substr(phone, 8, 2) = '11') AS violations,
       count(*) AS total
FROM read_parquet('{dir}/customers.parquet');

-- name: R02_customer_phone_area_code_is_us
-- kind: impossible
SELECT count(*) FILTER (WHERE a.country IS DISTINCT FROM 'US') AS violations, count(*) AS total
FROM read_parquet('{dir}/customers.parquet') c
LEFT JOIN read_csv('{ref}/nanp_area_codes.csv', types={'area_code': 'VARCHAR'}) a ON a.area_code = substr(c.phone, 2, 3);

-- name: R03_customer_phone_area_code_in_home_state
-- kind: implausible
SELECT count(*) FILTER (WHERE a.region IS DISTINCT FROM c.state) AS violations, count(*) AS total
FROM read_parquet('{dir}/customers.parquet') c
LEFT JOIN read_csv('{ref}/nanp_area_codes.csv', types={'area_code': 'VARCHAR'}) a ON a.area_code = substr(c.phone, 2, 3);

-- name: R04_customer_zip_city_state_agree
-- kind: impossible
SELECT count(*) FILTER (WHERE z.postal_code IS NULL) AS violations, count(*) AS total
FROM read_parquet('{dir}/customers.parquet') c
LEFT JOIN read_csv('{vocab}/us_zips.csv', types={'postal_code': 'VARCHAR'}) z
  ON z.postal_code = c.zip_code AND z.state = c.state AND z.city = c.city;

-- name: R05_customer_email_unique
-- kind: impossible
SELECT count(*) - count(DISTINCT lower(email)) AS violations, count(*) AS total
FROM read_parquet('{dir}/customers.parquet');

-- name: R06_store_zip_city_state_agree
-- kind: impossible
SELECT count(*) FILTER (WHERE z.postal_code IS NULL) AS violations, count(*) AS total
FROM read_parquet('{dir}/stores.parquet') s
LEFT JOIN read_csv('{vocab}/us_zips.csv', types={'postal_code': 'VARCHAR'}) z
  ON z.postal_code = s.zip_code AND z.state = s.state AND z.city = s.city;

-- name: R07_store_region_follows_state
-- kind: impossible
SELECT count(*) FILTER (WHERE region <> CASE
         WHEN state IN ('WA','OR','CA','NV','ID','MT','WY','UT','CO','AZ','NM','AK','HI') THEN 'West'
         WHEN state IN ('ND','SD','NE','KS','MN','IA','MO','WI','IL','IN','MI','OH') THEN 'North'
         WHEN state IN ('ME','NH','VT','MA','RI','CT','NY','NJ','PA','DE','MD','DC') THEN 'East'
         ELSE 'South' END) AS violations, count(*) AS total
FROM read_parquet('{dir}/stores.parquet');

-- name: R08_product_cost_below_price
-- kind: impossible
SELECT count(*) FILTER (WHERE NOT (0 < cost AND cost < price)) AS violations, count(*) AS total
FROM read_parquet('{dir}/products.parquet');

-- name: R09_product_subcategory_in_category
-- kind: impossible
WITH t(category, sub_category) AS (VALUES ('Electronics','Mobile'),('Electronics','Laptop'),('Electronics','Camera'),
  ('Clothing','Men'),('Clothing','Women'),('Clothing','Kids'),('Home','Furniture'),('Home','Kitchen'),('Home','Decor'),
  ('Sports','Fitness'),('Sports','Outdoor'),('Sports','Team'),('Toys','Educational'),('Toys','Action'),('Toys','Puzzle'))
SELECT count(*) FILTER (WHERE t.category IS NULL) AS violations, count(*) AS total
FROM read_parquet('{dir}/products.parquet') p LEFT JOIN t USING (category, sub_category);

-- name: R10_product_margin_by_category
-- kind: implausible
-- Gross margin (1 - cost/price) averages 10-35% in Electronics and 35-65% in Clothing.
SELECT CASE WHEN avg(1 - cost / price) FILTER (WHERE category = 'Electronics') NOT BETWEEN 0.10 AND 0.35
              OR avg(1 - cost / price) FILTER (WHERE category = 'Clothing') NOT BETWEEN 0.35 AND 0.65 THEN 1 ELSE 0 END
         AS violations, 1 AS total, avg(1 - cost / price) FILTER (WHERE category = 'Electronics') AS value
FROM read_parquet('{dir}/products.parquet');

-- name: R11_promotion_window_in_year
-- kind: impossible
SELECT count(*) FILTER (WHERE NOT (start_date <= end_date AND year(start_date) = 2025 AND year(end_date) = 2025))
         AS violations, count(*) AS total
FROM read_parquet('{dir}/promotions.parquet');

-- name: R12_weekend_deal_on_weekend_days
-- kind: impossible
-- A Weekend Deal runs on Friday, Saturday and Sunday only.
SELECT count(*) FILTER (WHERE NOT ok) AS violations, count(*) AS total
FROM (SELECT promo_id, bool_and(isodow(d) IN (5, 6, 7)) AS ok
      FROM (SELECT promo_id, unnest(generate_series(start_date, end_date, INTERVAL 1 DAY))::DATE AS d
            FROM read_parquet('{dir}/promotions.parquet') WHERE promo_type = 'Weekend Deal')
      GROUP BY promo_id);

-- name: R13_holiday_sale_in_season
-- kind: impossible
-- A Holiday Sale runs inside the holiday season (1 November to 31 December).
SELECT count(*) FILTER (WHERE start_date < DATE '2025-11-01' OR end_date > DATE '2025-12-31') AS violations,
       count(*) AS total
FROM read_parquet('{dir}/promotions.parquet') WHERE promo_type = 'Holiday Sale';

-- name: R14_flash_sale_short
-- kind: impossible
SELECT count(*) FILTER (WHERE end_date - start_date > 2) AS violations, count(*) AS total
FROM read_parquet('{dir}/promotions.parquet') WHERE promo_type = 'Flash Sale';

-- name: R15_promo_name_matches
-- kind: impossible
SELECT count(*) FILTER (WHERE NOT starts_with(promo_name, concat(category, ' ', promo_type, ' #'))) AS violations,
       count(*) AS total
FROM read_parquet('{dir}/promotions.parquet');

-- name: R16_order_date_in_calendar
-- kind: impossible
SELECT count(*) FILTER (WHERE d.date_id IS NULL OR d.full_date <> o.order_date OR o.order_date > DATE '{as_of}')
         AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') o LEFT JOIN read_parquet('{dir}/dates.parquet') d USING (date_id);

-- name: R17_calendar_weekday_correct
-- kind: impossible
SELECT count(*) FILTER (WHERE weekday <> dayname(full_date) OR is_weekend <> (isodow(full_date) >= 6)
                           OR quarter <> quarter(full_date)) AS violations, count(*) AS total
FROM read_parquet('{dir}/dates.parquet');

-- name: R18_order_totals_reconcile
-- kind: impossible
SELECT count(*) FILTER (WHERE o.order_total IS DISTINCT FROM t.total OR o.item_count IS DISTINCT FROM t.items)
         AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') o
LEFT JOIN (SELECT order_id, round(sum(price::DECIMAL(12, 2)), 2)::DOUBLE AS total, sum(quantity) AS items
           FROM read_parquet('{dir}/transactions.parquet') GROUP BY order_id) t USING (order_id);

-- name: R19_line_price_reconciles
-- kind: impossible
SELECT count(*) FILTER (WHERE abs(t.price - (t.unit_price * t.quantity - t.discount)) > 0.005
                           OR t.unit_price <> p.price) AS violations, count(*) AS total
FROM read_parquet('{dir}/transactions.parquet') t JOIN read_parquet('{dir}/products.parquet') p USING (product_id);

-- name: R20_line_discount_is_promotion_rate
-- kind: impossible
SELECT count(*) FILTER (WHERE (t.promo_id IS NULL AND t.discount <> 0)
                           OR (t.promo_id IS NOT NULL AND abs(t.discount - t.unit_price * t.quantity * pr.discount_rate) > 0.005001))
         AS violations, count(*) AS total
FROM read_parquet('{dir}/transactions.parquet') t LEFT JOIN read_parquet('{dir}/promotions.parquet') pr USING (promo_id);

-- name: R21_line_promotion_covers_category
-- kind: impossible
SELECT count(*) FILTER (WHERE pr.category NOT IN ('All', p.category) OR t.promo_id <> o.promo_id OR o.promo_id IS NULL)
         AS violations, count(*) AS total
FROM read_parquet('{dir}/transactions.parquet') t JOIN read_parquet('{dir}/products.parquet') p USING (product_id)
JOIN read_parquet('{dir}/promotions.parquet') pr ON pr.promo_id = t.promo_id
JOIN read_parquet('{dir}/orders.parquet') o ON o.order_id = t.order_id;

-- name: R22_order_inside_promotion_window
-- kind: impossible
SELECT count(*) FILTER (WHERE o.order_date NOT BETWEEN pr.start_date AND pr.end_date) AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') o JOIN read_parquet('{dir}/promotions.parquet') pr USING (promo_id);

-- name: R23_promoted_order_has_promoted_line
-- kind: impossible
-- An order that carries a promotion has at least one line the promotion applies to.
SELECT count(*) FILTER (WHERE NOT coalesce(t.any_line, false)) AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') o
LEFT JOIN (SELECT order_id, bool_or(promo_id IS NOT NULL) AS any_line FROM read_parquet('{dir}/transactions.parquet')
           GROUP BY order_id) t USING (order_id)
WHERE o.promo_id IS NOT NULL;

-- name: R24_weekend_deal_orders_on_weekends
-- kind: impossible
SELECT count(*) FILTER (WHERE isodow(o.order_date) NOT IN (5, 6, 7)) AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') o JOIN read_parquet('{dir}/promotions.parquet') pr USING (promo_id)
WHERE pr.promo_type = 'Weekend Deal';

-- name: R25_lines_distinct_products
-- kind: impossible
SELECT count(*) - count(DISTINCT (order_id, product_id)) AS violations, count(*) AS total
FROM read_parquet('{dir}/transactions.parquet');

-- name: R26_no_pending_older_than_30_days
-- kind: impossible
-- An order still Pending 30 days after it was placed has been shipped or cancelled by then.
SELECT count(*) FILTER (WHERE order_status = 'Pending') AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') WHERE order_date < DATE '{as_of}' - INTERVAL 30 DAY;

-- name: R27_no_pending_in_store
-- kind: impossible
SELECT count(*) FILTER (WHERE order_status = 'Pending') AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') WHERE channel = 'In-Store';

-- name: R28_recent_online_orders_not_all_completed
-- kind: implausible
-- Online and app orders placed in the last 3 days before as_of: at most 60% already Completed (delivered).
SELECT CASE WHEN avg((order_status = 'Completed')::INT) > 0.6 THEN 1 ELSE 0 END AS violations, 1 AS total,
       avg((order_status = 'Completed')::INT) AS value
FROM read_parquet('{dir}/orders.parquet')
WHERE channel <> 'In-Store' AND order_date >= DATE '{as_of}' - INTERVAL 3 DAY;

-- name: R29_cash_only_in_store
-- kind: impossible
SELECT count(*) FILTER (WHERE payment_method = 'Cash' AND channel <> 'In-Store') AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet');

-- name: R30_in_store_order_in_home_state
-- kind: implausible
-- In-store orders are at a store in the customer's home state whenever that state has a store; at most
-- 15% are made away from home (travel).
WITH o AS (SELECT c.state AS home, s.state AS store_state
           FROM read_parquet('{dir}/orders.parquet') o JOIN read_parquet('{dir}/customers.parquet') c USING (customer_id)
           JOIN read_parquet('{dir}/stores.parquet') s USING (store_id)
           WHERE o.channel = 'In-Store' AND c.state IN (SELECT state FROM read_parquet('{dir}/stores.parquet')))
SELECT count(*) FILTER (WHERE home <> store_state) AS violations, count(*) AS total FROM o;

-- name: R31_customer_uses_few_stores
-- kind: implausible
-- A customer's in-store orders concentrate on a home store: customers with 3+ in-store orders use on
-- average at most 2 distinct stores per 3 orders (ratio distinct stores / orders <= 0.67).
WITH c AS (SELECT customer_id, count(*) AS n, count(DISTINCT store_id) AS stores
           FROM read_parquet('{dir}/orders.parquet') WHERE channel = 'In-Store' GROUP BY customer_id HAVING count(*) >= 3)
SELECT CASE WHEN avg(stores / n) > 0.67 THEN 1 ELSE 0 END AS violations, 1 AS total, avg(stores / n) AS value FROM c;

-- name: R32_in_store_lines_stocked_by_store
-- kind: implausible
-- A product sold in a store is in that store's assortment (the inventory snapshot): at least 90% of in-store lines.
WITH l AS (SELECT (i.product_id IS NOT NULL) AS stocked
           FROM read_parquet('{dir}/transactions.parquet') t JOIN read_parquet('{dir}/orders.parquet') o USING (order_id)
           LEFT JOIN read_parquet('{dir}/inventory.parquet') i ON i.store_id = o.store_id AND i.product_id = t.product_id
           WHERE o.channel = 'In-Store')
SELECT count(*) FILTER (WHERE NOT stocked) AS violations, count(*) AS total FROM l;

-- name: R33_holiday_share_of_sales
-- kind: implausible
-- November and December hold 17-30% of the year's sales (NRF: the holiday season is about a fifth of annual retail sales).
SELECT CASE WHEN sum(order_total) FILTER (WHERE month(order_date) >= 11) / sum(order_total) NOT BETWEEN 0.17 AND 0.30
            THEN 1 ELSE 0 END AS violations, 1 AS total,
       sum(order_total) FILTER (WHERE month(order_date) >= 11) / sum(order_total) AS value
FROM read_parquet('{dir}/orders.parquet') WHERE order_status <> 'Cancelled';

-- name: R34_big_ticket_single_units
-- kind: implausible
-- Lines of items of 500 dollars or more: at least 80% are for one unit.
SELECT CASE WHEN avg((quantity = 1)::INT) < 0.8 THEN 1 ELSE 0 END AS violations, 1 AS total, avg((quantity = 1)::INT) AS value
FROM read_parquet('{dir}/transactions.parquet') WHERE unit_price >= 500;

-- name: R35_returns_of_completed_orders_only
-- kind: impossible
SELECT count(*) FILTER (WHERE o.order_status <> 'Completed') AS violations, count(*) AS total
FROM read_parquet('{dir}/returns.parquet') r JOIN read_parquet('{dir}/orders.parquet') o USING (order_id);

-- name: R36_return_matches_its_line
-- kind: impossible
SELECT count(*) FILTER (WHERE t.order_id IS DISTINCT FROM r.order_id OR t.product_id IS DISTINCT FROM r.product_id
                           OR r.quantity NOT BETWEEN 1 AND t.quantity OR r.refund_amount > t.price OR r.refund_amount < 0)
         AS violations, count(*) AS total
FROM read_parquet('{dir}/returns.parquet') r LEFT JOIN read_parquet('{dir}/transactions.parquet') t USING (transaction_id);

-- name: R37_returned_quantity_not_above_sold
-- kind: impossible
-- Over all returns of one line, the units returned never exceed the units sold.
SELECT count(*) FILTER (WHERE returned > sold) AS violations, count(*) AS total
FROM (SELECT r.transaction_id, sum(r.quantity) AS returned, any_value(t.quantity) AS sold
      FROM read_parquet('{dir}/returns.parquet') r JOIN read_parquet('{dir}/transactions.parquet') t USING (transaction_id)
      GROUP BY r.transaction_id);

-- name: R38_return_within_window
-- kind: impossible
SELECT count(*) FILTER (WHERE r.return_date <= o.order_date OR r.return_date > o.order_date + INTERVAL 30 DAY
                           OR r.return_date > DATE '{as_of}') AS violations, count(*) AS total
FROM read_parquet('{dir}/returns.parquet') r JOIN read_parquet('{dir}/orders.parquet') o USING (order_id);

-- name: R39_return_rate_overall
-- kind: implausible
-- Returned value is 5% to 20% of sales (NRF/Appriss: 14.5% of 2023 US retail sales were returned).
WITH s AS (SELECT sum(order_total) AS sales FROM read_parquet('{dir}/orders.parquet') WHERE order_status = 'Completed'),
r AS (SELECT sum(refund_amount) AS refunds FROM read_parquet('{dir}/returns.parquet'))
SELECT CASE WHEN refunds / sales NOT BETWEEN 0.05 AND 0.20 THEN 1 ELSE 0 END AS violations, 1 AS total, refunds / sales AS value
FROM s, r;

-- name: R40_online_returns_exceed_in_store
-- kind: implausible
-- Online and app orders are returned at least 1.3x as often as in-store orders (NRF/Appriss 2023: 17.6%
-- of online sales against 14.5% of all sales).
WITH o AS (SELECT o.order_id, o.channel <> 'In-Store' AS online, r.order_id IS NOT NULL AS returned
           FROM read_parquet('{dir}/orders.parquet') o
           LEFT JOIN (SELECT DISTINCT order_id FROM read_parquet('{dir}/returns.parquet')) r USING (order_id)
           WHERE o.order_status = 'Completed')
SELECT CASE WHEN avg(returned::INT) FILTER (WHERE online) < 1.3 * avg(returned::INT) FILTER (WHERE NOT online) THEN 1 ELSE 0 END
         AS violations, 1 AS total,
       avg(returned::INT) FILTER (WHERE online) / avg(returned::INT) FILTER (WHERE NOT online) AS value
FROM o;

-- name: R41_clothing_returns_exceed_other
-- kind: implausible
-- Clothing lines are returned at least 1.5x as often as the lines of other categories.
WITH l AS (SELECT p.category = 'Clothing' AS clothing, r.transaction_id IS NOT NULL AS returned
           FROM read_parquet('{dir}/transactions.parquet') t JOIN read_parquet('{dir}/orders.parquet') o USING (order_id)
           JOIN read_parquet('{dir}/products.parquet') p USING (product_id)
           LEFT JOIN (SELECT DISTINCT transaction_id FROM read_parquet('{dir}/returns.parquet')) r USING (transaction_id)
           WHERE o.order_status = 'Completed')
SELECT CASE WHEN avg(returned::INT) FILTER (WHERE clothing) < 1.5 * avg(returned::INT) FILTER (WHERE NOT clothing) THEN 1 ELSE 0 END
         AS violations, 1 AS total,
       avg(returned::INT) FILTER (WHERE clothing) / avg(returned::INT) FILTER (WHERE NOT clothing) AS value
FROM l;

-- name: R42_restocking_fee_only_for_dissatisfaction
-- kind: impossible
-- Defective and wrong items are refunded in full: refund = returned share of the line's price.
SELECT count(*) FILTER (WHERE abs(r.refund_amount - round(t.price * r.quantity / t.quantity, 2)) > 0.011) AS violations,
       count(*) AS total
FROM read_parquet('{dir}/returns.parquet') r JOIN read_parquet('{dir}/transactions.parquet') t USING (transaction_id)
WHERE r.return_reason IN ('Defective', 'Wrong Item');

-- name: R43_inventory_within_capacity
-- kind: impossible
SELECT count(*) FILTER (WHERE NOT (0 <= stock_quantity AND stock_quantity <= max_stock AND 0 < reorder_level
                                   AND reorder_level < max_stock) OR needs_reorder <> (stock_quantity <= reorder_level)
                           OR inventory_date > DATE '{as_of}') AS violations,
       count(*) AS total
FROM read_parquet('{dir}/inventory.parquet');

-- name: R44_inventory_unique_store_product
-- kind: impossible
SELECT count(*) - count(DISTINCT (store_id, product_id)) AS violations, count(*) AS total
FROM read_parquet('{dir}/inventory.parquet');

-- name: R45_ship_after_order_delivery_after_ship
-- kind: impossible
-- needs: orders.ship_date, orders.delivery_date
SELECT count(*) FILTER (WHERE ship_date < order_date OR delivery_date < ship_date OR delivery_date > DATE '{as_of}')
         AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') WHERE channel <> 'In-Store';

-- name: R46_completed_online_orders_delivered
-- kind: impossible
-- needs: orders.delivery_date
SELECT count(*) FILTER (WHERE delivery_date IS NULL) AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') WHERE channel <> 'In-Store' AND order_status = 'Completed';

-- name: R47_ship_lead_time
-- kind: implausible
-- needs: orders.ship_date, orders.delivery_date
-- Online orders ship within 0-5 days and arrive 1-10 days after the order (95% of them).
SELECT count(*) FILTER (WHERE ship_date - order_date NOT BETWEEN 0 AND 5 OR delivery_date - order_date NOT BETWEEN 1 AND 10)
         AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') WHERE channel <> 'In-Store' AND delivery_date IS NOT NULL;

-- name: R48_return_after_delivery
-- kind: impossible
-- needs: orders.delivery_date
SELECT count(*) FILTER (WHERE r.return_date < o.delivery_date) AS violations, count(*) AS total
FROM read_parquet('{dir}/returns.parquet') r JOIN read_parquet('{dir}/orders.parquet') o USING (order_id)
WHERE o.channel <> 'In-Store';

-- name: R49_order_after_customer_signup
-- kind: impossible
-- needs: customers.signup_date
SELECT count(*) FILTER (WHERE o.order_date < c.signup_date) AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') o JOIN read_parquet('{dir}/customers.parquet') c USING (customer_id);

-- name: R50_order_after_store_opening
-- kind: impossible
-- needs: stores.opening_date
SELECT count(*) FILTER (WHERE o.order_date < s.opening_date) AS violations, count(*) AS total
FROM read_parquet('{dir}/orders.parquet') o JOIN read_parquet('{dir}/stores.parquet') s USING (store_id);
