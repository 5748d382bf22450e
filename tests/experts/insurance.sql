-- Expert checks for the built-in `insurance` dataset (docs/datasets/insurance.md).
--
-- DuckDB SQL over the generated Parquet files. Placeholders, filled in by benchmarks/expert_checks.py:
--   {dir}    the generated dataset's folder (persons.parquet, vehicles.parquet, ...)
--   {ref}    this folder (tests/experts), for reference tables such as nanp_area_codes.csv
--   {as_of}  the dataset's as_of date (from datapackage.json), e.g. 2026-01-01
--
-- One query per rule, each introduced by a `-- name:` line whose name matches the rule's id in the doc
-- (I01 ... ), with `-- kind:` impossible (a single row is an error) or implausible (a rate or a statistic
-- outside the range an expert accepts). Every query returns one row: `violations` and `total` (for a
-- statistic, violations is 1 when it is out of range, total 1) and optionally `value` (the statistic).

-- name: I01_dob_not_after_as_of
-- kind: impossible
SELECT count(*) FILTER (WHERE date_of_birth > DATE '{as_of}') AS violations, count(*) AS total
FROM read_parquet('{dir}/persons.parquet');

-- name: I02_licensed_at_16
-- kind: impossible
SELECT count(*) FILTER (WHERE license_issue_date < date_of_birth + INTERVAL 16 YEAR) AS violations,
       count(*) AS total
FROM read_parquet('{dir}/persons.parquet');

-- name: I03_licence_issued_not_after_as_of
-- kind: impossible
SELECT count(*) FILTER (WHERE license_issue_date > DATE '{as_of}') AS violations, count(*) AS total
FROM read_parquet('{dir}/persons.parquet');

-- name: I04_driver_age_16_to_100
-- kind: impossible
SELECT count(*) FILTER (WHERE date_diff('year', date_of_birth, DATE '{as_of}') NOT BETWEEN 16 AND 100)
         AS violations, count(*) AS total
FROM read_parquet('{dir}/persons.parquet');

-- name: I05_licence_state_is_residence
-- kind: impossible
SELECT count(*) FILTER (WHERE driver_license_state <> state) AS violations, count(*) AS total
FROM read_parquet('{dir}/persons.parquet');

-- name: I06_licence_unique_per_state
-- kind: impossible
SELECT coalesce(sum(n - 1), 0) AS violations, (SELECT count(*) FROM read_parquet('{dir}/persons.parquet')) AS total
FROM (SELECT count(*) AS n FROM read_parquet('{dir}/persons.parquet')
      GROUP BY driver_license_state, driver_license_number HAVING count(*) > 1);

-- name: I07_licence_format_fl_il_mi_wi
-- kind: impossible
SELECT count(*) FILTER (WHERE NOT regexp_full_match(driver_license_number, CASE driver_license_state
         WHEN 'FL' THEN '[A-Z][0-9]{12}' WHEN 'IL' THEN '[A-Z][0-9]{11}'
         WHEN 'MI' THEN '[A-Z][0-9]{12}' ELSE '[A-Z][0-9]{13}' END)) AS violations,
       count(*) AS total
FROM read_parquet('{dir}/persons.parquet')
WHERE driver_license_state IN ('FL', 'IL', 'MI', 'WI');

-- name: I08_licence_initial_is_surname_initial
-- kind: impossible
SELECT count(*) FILTER (WHERE upper(left(driver_license_number, 1)) <> upper(left(last_name, 1)))
         AS violations, count(*) AS total
FROM read_parquet('{dir}/persons.parquet')
WHERE driver_license_state IN ('FL', 'IL', 'MI', 'WI');

-- name: I09_phone_nanp_format
-- kind: impossible
SELECT count(*) FILTER (WHERE NOT regexp_full_match(phone, '\([2-9][0-9]{2}\) [2-9][0-9]{2}-[0-9]{4}')
                           OR substr(phone, 3, 2) = '11' OR substr(phone, 8, 2) = '11') AS violations,
       count(*) AS total
FROM read_parquet('{dir}/persons.parquet');

-- name: I10_phone_area_code_is_us
-- kind: impossible
SELECT count(*) FILTER (WHERE a.country IS DISTINCT FROM 'US') AS violations, count(*) AS total
FROM read_parquet('{dir}/persons.parquet') p
LEFT JOIN read_csv('{ref}/nanp_area_codes.csv', types={'area_code': 'VARCHAR'}) a
  ON a.area_code = substr(p.phone, 2, 3);

-- name: I11_phone_area_code_in_home_state
-- kind: implausible
SELECT count(*) FILTER (WHERE a.region IS DISTINCT FROM p.state) AS violations, count(*) AS total
FROM read_parquet('{dir}/persons.parquet') p
LEFT JOIN read_csv('{ref}/nanp_area_codes.csv', types={'area_code': 'VARCHAR'}) a
  ON a.area_code = substr(p.phone, 2, 3);

-- name: I12_zip_city_state_agree
-- kind: impossible
SELECT count(*) FILTER (WHERE z.postal_code IS NULL) AS violations, count(*) AS total
FROM read_parquet('{dir}/persons.parquet') p
LEFT JOIN read_csv('{vocab}/us_zips.csv', types={'postal_code': 'VARCHAR'}) z
  ON z.postal_code = p.postal_code AND z.state = p.state AND z.city = p.city;

-- name: I13_email_unique
-- kind: impossible
SELECT count(*) - count(DISTINCT lower(email)) AS violations, count(*) AS total
FROM read_parquet('{dir}/persons.parquet');

-- name: I14_vin_check_digit
-- kind: impossible
SELECT count(*) FILTER (WHERE substr(vin, 9, 1) <> CASE WHEN s % 11 = 10 THEN 'X' ELSE CAST(s % 11 AS VARCHAR) END)
         AS violations, count(*) AS total
FROM (SELECT vin, list_sum(list_transform(range(1, 18), lambda i:
        CASE WHEN substr(vin, i::INT, 1) BETWEEN '0' AND '9' THEN CAST(substr(vin, i::INT, 1) AS INT)
             ELSE [1,2,3,4,5,6,7,8,1,2,3,4,5,7,9,2,3,4,5,6,7,8,9][strpos('ABCDEFGHJKLMNPRSTUVWXYZ', substr(vin, i::INT, 1))]
        END * [8,7,6,5,4,3,2,10,0,9,8,7,6,5,4,3,2][i::INT])) AS s
      FROM read_parquet('{dir}/vehicles.parquet'));

-- name: I15_vin_year_code_matches_model_year
-- kind: impossible
SELECT count(*) FILTER (WHERE substr(vin, 10, 1) <> substr('ABCDEFGHJKLMNPRSTVWXY123456789', ((model_year - 1980) % 30) + 1, 1))
         AS violations, count(*) AS total
FROM read_parquet('{dir}/vehicles.parquet');

-- name: I16_model_year_not_after_next_year
-- kind: impossible
SELECT count(*) FILTER (WHERE model_year > year(DATE '{as_of}') + 1) AS violations, count(*) AS total
FROM read_parquet('{dir}/vehicles.parquet');

-- name: I17_next_model_year_share_small
-- kind: implausible
-- Model year year(as_of)+1 vehicles already on the road on as_of (January 1): at most 1% of a book.
SELECT CASE WHEN avg((model_year > year(DATE '{as_of}'))::INT) > 0.01 THEN 1 ELSE 0 END AS violations, 1 AS total,
       avg((model_year > year(DATE '{as_of}'))::INT) AS value
FROM read_parquet('{dir}/vehicles.parquet');

-- name: I18_garaged_at_owner_address
-- kind: impossible
SELECT count(*) FILTER (WHERE v.garaging_state <> p.state OR v.garaging_postal_code <> p.postal_code
                           OR v.lob_type <> p.lob_type) AS violations, count(*) AS total
FROM read_parquet('{dir}/vehicles.parquet') v JOIN read_parquet('{dir}/persons.parquet') p USING (person_id);

-- name: I19_profile_matches_primary_vehicle
-- kind: impossible
SELECT count(*) FILTER (WHERE v.person_id IS DISTINCT FROM pr.person_id OR v.vin IS DISTINCT FROM pr.primary_vehicle_vin
                           OR pr.vehicle_summary IS DISTINCT FROM concat(v.model_year, ' ', v.make, ' ', v.model)
                           OR pr.risk_rating IS DISTINCT FROM v.risk_rating) AS violations, count(*) AS total
FROM read_parquet('{dir}/profiles.parquet') pr LEFT JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id);

-- name: I20_policy_period_ordered
-- kind: impossible
SELECT count(*) FILTER (WHERE NOT (effective_date < expiration_date AND effective_date <= DATE '{as_of}')
                           OR date_diff('month', effective_date, expiration_date) NOT IN (6, 12)) AS violations,
       count(*) AS total
FROM read_parquet('{dir}/policies.parquet');

-- name: I21_policy_status_matches_dates
-- kind: impossible
SELECT count(*) FILTER (WHERE (status = 'Active' AND expiration_date <= DATE '{as_of}')
                           OR (status = 'Expired' AND expiration_date > DATE '{as_of}')) AS violations,
       count(*) AS total
FROM read_parquet('{dir}/policies.parquet');

-- name: I22_policy_holder_is_vehicle_owner
-- kind: impossible
SELECT count(*) FILTER (WHERE v.person_id IS DISTINCT FROM po.person_id OR v.lob_type IS DISTINCT FROM po.lob_type)
         AS violations, count(*) AS total
FROM read_parquet('{dir}/policies.parquet') po LEFT JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id);

-- name: I23_policy_not_before_vehicle_exists
-- kind: impossible
-- A model-year Y vehicle can be sold from 1 January of Y-1 at the earliest (49 CFR 565.12 model year).
SELECT count(*) FILTER (WHERE po.effective_date < make_date(v.model_year - 1, 1, 1)) AS violations,
       count(*) AS total
FROM read_parquet('{dir}/policies.parquet') po JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id);

-- name: I24_policy_holder_16_at_start
-- kind: impossible
SELECT count(*) FILTER (WHERE po.effective_date < p.date_of_birth + INTERVAL 16 YEAR) AS violations, count(*) AS total
FROM read_parquet('{dir}/policies.parquet') po JOIN read_parquet('{dir}/persons.parquet') p USING (person_id);

-- name: I25_premium_in_range
-- kind: impossible
SELECT count(*) FILTER (WHERE annual_premium NOT BETWEEN 200 AND 10000 OR annual_premium <> round(annual_premium, 2))
         AS violations, count(*) AS total
FROM read_parquet('{dir}/policies.parquet');

-- name: I26_premium_full_above_liability
-- kind: implausible
SELECT CASE WHEN avg(annual_premium) FILTER (WHERE coverage = 'Full Coverage')
                 < 1.5 * avg(annual_premium) FILTER (WHERE coverage = 'Liability') THEN 1 ELSE 0 END AS violations,
       1 AS total,
       avg(annual_premium) FILTER (WHERE coverage = 'Full Coverage') / avg(annual_premium) FILTER (WHERE coverage = 'Liability') AS value
FROM read_parquet('{dir}/policies.parquet');

-- name: I27_premium_rises_with_risk_rating
-- kind: implausible
SELECT CASE WHEN avg(annual_premium) FILTER (WHERE v.risk_rating = 'High')
                 < 1.3 * avg(annual_premium) FILTER (WHERE v.risk_rating = 'Low') THEN 1 ELSE 0 END AS violations,
       1 AS total,
       avg(annual_premium) FILTER (WHERE v.risk_rating = 'High') / avg(annual_premium) FILTER (WHERE v.risk_rating = 'Low') AS value
FROM read_parquet('{dir}/policies.parquet') po JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id);

-- name: I28_premium_young_drivers_higher
-- kind: implausible
-- Same coverage mix: drivers under 25 pay at least 1.4x what drivers aged 30-60 pay.
WITH x AS (SELECT po.coverage, po.annual_premium, date_diff('year', p.date_of_birth, po.effective_date) AS age
           FROM read_parquet('{dir}/policies.parquet') po JOIN read_parquet('{dir}/persons.parquet') p USING (person_id)),
r AS (SELECT coverage, avg(annual_premium) FILTER (WHERE age < 25) / avg(annual_premium) FILTER (WHERE age BETWEEN 30 AND 60) AS ratio
      FROM x GROUP BY coverage)
SELECT CASE WHEN min(ratio) < 1.4 THEN 1 ELSE 0 END AS violations, 1 AS total, min(ratio) AS value FROM r;

-- name: I29_premium_rises_with_prior_claims
-- kind: implausible
-- A policy that starts after the vehicle's earlier claims costs more (same coverage): at least 1.1x.
-- The dataset has one policy per vehicle, so prior claims are those of the owner's other vehicles before
-- the policy's start.
WITH c AS (SELECT po.person_id, cl.claim_date FROM read_parquet('{dir}/claims.parquet') cl
           JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)),
x AS (SELECT po.coverage, po.annual_premium,
             (SELECT count(*) FROM c WHERE c.person_id = po.person_id AND c.claim_date < po.effective_date) > 0 AS prior
      FROM read_parquet('{dir}/policies.parquet') po),
r AS (SELECT coverage, avg(annual_premium) FILTER (WHERE prior) / avg(annual_premium) FILTER (WHERE NOT prior) AS ratio
      FROM x GROUP BY coverage)
SELECT CASE WHEN min(ratio) < 1.1 THEN 1 ELSE 0 END AS violations, 1 AS total, min(ratio) AS value FROM r;

-- name: I30_premium_varies_by_state
-- kind: implausible
-- Michigan, Florida, Louisiana, New York and New Jersey premiums are at least 1.3x those of Maine, Idaho, North Dakota
-- and Iowa (NAIC Auto Insurance Database Report: highest and lowest average expenditures).
WITH x AS (SELECT po.annual_premium, v.garaging_state AS st FROM read_parquet('{dir}/policies.parquet') po
           JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id))
SELECT CASE WHEN avg(annual_premium) FILTER (WHERE st IN ('MI', 'FL', 'LA', 'NY', 'NJ'))
                 < 1.3 * avg(annual_premium) FILTER (WHERE st IN ('ME', 'ID', 'ND', 'IA')) THEN 1 ELSE 0 END AS violations,
       1 AS total,
       avg(annual_premium) FILTER (WHERE st IN ('MI', 'FL', 'LA', 'NY', 'NJ')) / avg(annual_premium) FILTER (WHERE st IN ('ME', 'ID', 'ND', 'IA')) AS value
FROM x;

-- name: I31_new_cars_carry_physical_damage_cover
-- kind: implausible
-- Vehicles at most 3 model years old (mostly financed or leased, and lenders require collision and
-- comprehensive) are liability-only at most 15% of the time.
SELECT CASE WHEN avg((po.coverage = 'Liability')::INT) > 0.15 THEN 1 ELSE 0 END AS violations, 1 AS total,
       avg((po.coverage = 'Liability')::INT) AS value
FROM read_parquet('{dir}/policies.parquet') po JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id)
WHERE v.model_year >= year(po.effective_date) - 3;

-- name: I32_collision_cover_falls_with_vehicle_age
-- kind: implausible
-- Collision (or full) cover is bought at least 1.5x as often for vehicles up to 3 years old as for 15+ years old.
WITH x AS (SELECT po.coverage IN ('Collision', 'Full Coverage') AS coll, year(po.effective_date) - v.model_year AS age
           FROM read_parquet('{dir}/policies.parquet') po JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id))
SELECT CASE WHEN avg(coll::INT) FILTER (WHERE age <= 3) < 1.5 * avg(coll::INT) FILTER (WHERE age >= 15) THEN 1 ELSE 0 END
         AS violations, 1 AS total,
       avg(coll::INT) FILTER (WHERE age <= 3) / avg(coll::INT) FILTER (WHERE age >= 15) AS value
FROM x;

-- name: I33_vehicles_insured_on_as_of
-- kind: implausible
-- An insurer's vehicles mostly renew (retention ~80%+): at most 25% of vehicles have no policy in force on as_of.
WITH v AS (SELECT vehicle_id, bool_or(effective_date <= DATE '{as_of}' AND expiration_date > DATE '{as_of}'
                                      AND status <> 'Cancelled') AS insured
           FROM read_parquet('{dir}/policies.parquet') GROUP BY vehicle_id)
SELECT CASE WHEN avg((NOT insured)::INT) > 0.25 THEN 1 ELSE 0 END AS violations, 1 AS total,
       avg((NOT insured)::INT) AS value FROM v;

-- name: I34_claim_inside_policy_term
-- kind: impossible
SELECT count(*) FILTER (WHERE NOT (cl.claim_date >= po.effective_date AND cl.claim_date < po.expiration_date))
         AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id);

-- name: I35_claim_not_after_as_of
-- kind: impossible
SELECT count(*) FILTER (WHERE claim_date > DATE '{as_of}') AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet');

-- name: I36_claim_peril_covered
-- kind: impossible
-- Liability covers Liability claims; Collision adds Collision; Comprehensive adds Comprehensive, Glass and
-- Theft; Full Coverage covers every peril including Medical (medical payments / PIP).
WITH cov(coverage, claim_type) AS (VALUES
  ('Liability', 'Liability'),
  ('Collision', 'Liability'), ('Collision', 'Collision'),
  ('Comprehensive', 'Liability'), ('Comprehensive', 'Comprehensive'), ('Comprehensive', 'Glass'), ('Comprehensive', 'Theft'),
  ('Full Coverage', 'Liability'), ('Full Coverage', 'Collision'), ('Full Coverage', 'Comprehensive'),
  ('Full Coverage', 'Glass'), ('Full Coverage', 'Theft'), ('Full Coverage', 'Medical'))
SELECT count(*) FILTER (WHERE cov.coverage IS NULL) AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)
LEFT JOIN cov ON cov.coverage = po.coverage AND cov.claim_type = cl.claim_type;

-- name: I37_collision_claim_on_liability_only
-- kind: impossible
SELECT count(*) FILTER (WHERE po.coverage = 'Liability' AND cl.claim_type = 'Collision') AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id);

-- name: I38_claim_frequency_per_car_year
-- kind: implausible
-- All perils together: 0.05 to 0.25 claims per earned car-year (III: collision ~6, property-damage
-- liability ~3.5, comprehensive ~3, bodily injury ~1 claims per 100 insured car-years).
WITH e AS (SELECT sum(date_diff('day', effective_date, least(expiration_date, DATE '{as_of}'))) / 365.25 AS car_years
           FROM read_parquet('{dir}/policies.parquet')),
n AS (SELECT count(*) AS claims FROM read_parquet('{dir}/claims.parquet'))
SELECT CASE WHEN claims / car_years NOT BETWEEN 0.05 AND 0.25 THEN 1 ELSE 0 END AS violations, 1 AS total,
       claims / car_years AS value
FROM e, n;

-- name: I39_collision_frequency_per_covered_car_year
-- kind: implausible
-- Collision claims per earned car-year with collision cover: 0.03 to 0.10.
WITH e AS (SELECT sum(date_diff('day', effective_date, least(expiration_date, DATE '{as_of}'))) / 365.25 AS car_years
           FROM read_parquet('{dir}/policies.parquet') WHERE coverage IN ('Collision', 'Full Coverage')),
n AS (SELECT count(*) AS claims FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)
      WHERE cl.claim_type = 'Collision' AND po.coverage IN ('Collision', 'Full Coverage'))
SELECT CASE WHEN claims / car_years NOT BETWEEN 0.03 AND 0.10 THEN 1 ELSE 0 END AS violations, 1 AS total,
       claims / car_years AS value
FROM e, n;

-- name: I40_liability_frequency_per_car_year
-- kind: implausible
-- Liability claims per earned car-year (every policy carries liability): 0.02 to 0.08.
WITH e AS (SELECT sum(date_diff('day', effective_date, least(expiration_date, DATE '{as_of}'))) / 365.25 AS car_years
           FROM read_parquet('{dir}/policies.parquet')),
n AS (SELECT count(*) AS claims FROM read_parquet('{dir}/claims.parquet') WHERE claim_type = 'Liability')
SELECT CASE WHEN claims / car_years NOT BETWEEN 0.02 AND 0.08 THEN 1 ELSE 0 END AS violations, 1 AS total,
       claims / car_years AS value
FROM e, n;

-- name: I41_loss_ratio
-- kind: implausible
-- Incurred losses (claims not Denied) over earned premium: 0.5 to 1.0 (US private passenger auto has run
-- at roughly 0.6 to 0.8).
WITH e AS (SELECT sum(annual_premium * date_diff('day', effective_date, least(expiration_date, DATE '{as_of}')) / 365.25) AS earned
           FROM read_parquet('{dir}/policies.parquet')),
l AS (SELECT sum(claim_amount) AS losses FROM read_parquet('{dir}/claims.parquet') WHERE status <> 'Denied')
SELECT CASE WHEN losses / earned NOT BETWEEN 0.5 AND 1.0 THEN 1 ELSE 0 END AS violations, 1 AS total,
       losses / earned AS value
FROM e, l;

-- name: I42_claim_rate_by_policy_age
-- kind: implausible
-- Claims per earned car-year of policies in force under 60 days (at as_of or expiry) vs a year or more:
-- ratio within 0.5 to 2.
WITH p AS (SELECT policy_id, date_diff('day', effective_date, least(expiration_date, DATE '{as_of}')) AS days
           FROM read_parquet('{dir}/policies.parquet')),
c AS (SELECT policy_id, count(*) AS n FROM read_parquet('{dir}/claims.parquet') GROUP BY policy_id),
g AS (SELECT sum(coalesce(n, 0)) FILTER (WHERE days < 60) / (sum(days) FILTER (WHERE days < 60) / 365.25) AS short_rate,
             sum(coalesce(n, 0)) FILTER (WHERE days >= 365) / (sum(days) FILTER (WHERE days >= 365) / 365.25) AS long_rate
      FROM p LEFT JOIN c USING (policy_id))
SELECT CASE WHEN short_rate / long_rate NOT BETWEEN 0.5 AND 2 THEN 1 ELSE 0 END AS violations, 1 AS total,
       short_rate / long_rate AS value
FROM g;

-- name: I43_claim_rate_by_month
-- kind: implausible
-- Claims per earned car-year by calendar month: no month above 1.6x the median month.
WITH m AS (SELECT unnest(generate_series(DATE '2024-01-01', DATE '{as_of}' - INTERVAL 1 MONTH, INTERVAL 1 MONTH))::DATE AS m0),
pol AS (SELECT effective_date, least(expiration_date, DATE '{as_of}') AS e FROM read_parquet('{dir}/policies.parquet')),
ex AS (SELECT m0, sum(greatest(0, date_diff('day', greatest(effective_date, m0), least(e, (m0 + INTERVAL 1 MONTH)::DATE)))) / 365.25 AS cy
       FROM m, pol GROUP BY m0),
cl AS (SELECT date_trunc('month', claim_date)::DATE AS m0, count(*) AS n FROM read_parquet('{dir}/claims.parquet') GROUP BY 1),
r AS (SELECT ex.m0, coalesce(n, 0) / cy AS rate FROM ex LEFT JOIN cl USING (m0) WHERE cy > 500)
SELECT CASE WHEN max(rate) / median(rate) > 1.6 THEN 1 ELSE 0 END AS violations, 1 AS total,
       max(rate) / median(rate) AS value
FROM r;

-- name: I44_young_drivers_claim_more
-- kind: implausible
-- Claims per earned car-year for drivers under 25 at least 1.3x those of drivers aged 30-60.
WITH p AS (SELECT po.policy_id, date_diff('year', pe.date_of_birth, po.effective_date) AS age,
                  date_diff('day', po.effective_date, least(po.expiration_date, DATE '{as_of}')) AS days
           FROM read_parquet('{dir}/policies.parquet') po JOIN read_parquet('{dir}/persons.parquet') pe USING (person_id)),
c AS (SELECT policy_id, count(*) AS n FROM read_parquet('{dir}/claims.parquet') GROUP BY policy_id),
g AS (SELECT sum(coalesce(n, 0)) FILTER (WHERE age < 25) / sum(days) FILTER (WHERE age < 25) AS young,
             sum(coalesce(n, 0)) FILTER (WHERE age BETWEEN 30 AND 60) / sum(days) FILTER (WHERE age BETWEEN 30 AND 60) AS mid
      FROM p LEFT JOIN c USING (policy_id))
SELECT CASE WHEN young / mid < 1.3 THEN 1 ELSE 0 END AS violations, 1 AS total, young / mid AS value FROM g;

-- name: I45_high_risk_claims_more
-- kind: implausible
-- Claims per earned car-year of High risk-rated vehicles at least 1.3x those of Low.
WITH p AS (SELECT po.policy_id, v.risk_rating,
                  date_diff('day', po.effective_date, least(po.expiration_date, DATE '{as_of}')) AS days
           FROM read_parquet('{dir}/policies.parquet') po JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id)),
c AS (SELECT policy_id, count(*) AS n FROM read_parquet('{dir}/claims.parquet') GROUP BY policy_id),
g AS (SELECT sum(coalesce(n, 0)) FILTER (WHERE risk_rating = 'High') / sum(days) FILTER (WHERE risk_rating = 'High') AS high,
             sum(coalesce(n, 0)) FILTER (WHERE risk_rating = 'Low') / sum(days) FILTER (WHERE risk_rating = 'Low') AS low
      FROM p LEFT JOIN c USING (policy_id))
SELECT CASE WHEN high / low < 1.3 THEN 1 ELSE 0 END AS violations, 1 AS total, high / low AS value FROM g;

-- name: I46_recent_claims_mostly_open
-- kind: implausible
-- Of claims under 30 days old on as_of, at most 40% are already Closed or Denied.
SELECT CASE WHEN avg((status IN ('Closed', 'Denied'))::INT) > 0.4 THEN 1 ELSE 0 END AS violations, 1 AS total,
       avg((status IN ('Closed', 'Denied'))::INT) AS value
FROM read_parquet('{dir}/claims.parquet') WHERE date_diff('day', claim_date, DATE '{as_of}') < 30;

-- name: I47_claim_closed_within_days
-- kind: impossible
-- A claim reported on as_of itself (or the day before) cannot already be Closed after investigation.
SELECT count(*) FILTER (WHERE status = 'Closed') AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') WHERE date_diff('day', claim_date, DATE '{as_of}') <= 1;

-- name: I48_old_physical_damage_claims_settled
-- kind: implausible
-- Physical-damage claims (Collision, Comprehensive, Glass, Theft) older than 180 days: at most 5% still Open
-- or Under Review (bodily-injury liability and medical claims may run for years).
SELECT CASE WHEN avg((status IN ('Open', 'Under Review'))::INT) > 0.05 THEN 1 ELSE 0 END AS violations, 1 AS total,
       avg((status IN ('Open', 'Under Review'))::INT) AS value
FROM read_parquet('{dir}/claims.parquet')
WHERE claim_type IN ('Collision', 'Comprehensive', 'Glass', 'Theft') AND date_diff('day', claim_date, DATE '{as_of}') > 180;

-- name: I49_glass_claim_amount
-- kind: implausible
-- A glass claim (windshield repair or replacement, with ADAS calibration) costs at most 2,500 dollars.
SELECT count(*) FILTER (WHERE claim_amount > 2500) AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') WHERE claim_type = 'Glass';

-- name: I50_old_vehicle_damage_below_value
-- kind: implausible
-- A physical-damage claim cannot exceed the vehicle's actual cash value; vehicles 15+ model years old are
-- rarely worth over 15,000 dollars.
SELECT count(*) FILTER (WHERE cl.claim_amount > 15000) AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)
JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id)
WHERE cl.claim_type IN ('Collision', 'Comprehensive', 'Theft') AND year(cl.claim_date) - v.model_year >= 15;

-- name: I51_damage_amount_falls_with_vehicle_age
-- kind: implausible
-- Mean Collision/Comprehensive/Theft amount on vehicles up to 3 years old at least 1.5x that on 15+ years old.
WITH x AS (SELECT cl.claim_amount, year(cl.claim_date) - v.model_year AS age
           FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)
           JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id)
           WHERE cl.claim_type IN ('Collision', 'Comprehensive', 'Theft'))
SELECT CASE WHEN avg(claim_amount) FILTER (WHERE age <= 3) < 1.5 * avg(claim_amount) FILTER (WHERE age >= 15) THEN 1 ELSE 0 END
         AS violations, 1 AS total,
       avg(claim_amount) FILTER (WHERE age <= 3) / avg(claim_amount) FILTER (WHERE age >= 15) AS value
FROM x;

-- name: I52_claim_amount_in_cents
-- kind: impossible
SELECT count(*) FILTER (WHERE claim_amount <= 0 OR claim_amount <> round(claim_amount, 2)) AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet');

-- name: I53_no_duplicate_claims
-- kind: implausible
-- The same policy with two claims of the same peril on the same day is a duplicate.
SELECT coalesce(sum(n - 1), 0) AS violations, (SELECT count(*) FROM read_parquet('{dir}/claims.parquet')) AS total
FROM (SELECT count(*) AS n FROM read_parquet('{dir}/claims.parquet')
      GROUP BY policy_id, claim_date, claim_type HAVING count(*) > 1);

-- name: I54_theft_frequency
-- kind: implausible
-- Theft claims per earned car-year with comprehensive cover: at most 0.01 (US vehicle theft is roughly
-- 3 per 1,000 registered vehicles a year).
WITH e AS (SELECT sum(date_diff('day', effective_date, least(expiration_date, DATE '{as_of}'))) / 365.25 AS car_years
           FROM read_parquet('{dir}/policies.parquet') WHERE coverage IN ('Comprehensive', 'Full Coverage')),
n AS (SELECT count(*) AS claims FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)
      WHERE cl.claim_type = 'Theft' AND po.coverage IN ('Comprehensive', 'Full Coverage'))
SELECT CASE WHEN claims / car_years > 0.01 THEN 1 ELSE 0 END AS violations, 1 AS total, claims / car_years AS value
FROM e, n;

-- name: I55_denial_rate
-- kind: implausible
-- Denied claims are 3% to 15% of claims.
SELECT CASE WHEN avg((status = 'Denied')::INT) NOT BETWEEN 0.03 AND 0.15 THEN 1 ELSE 0 END AS violations, 1 AS total,
       avg((status = 'Denied')::INT) AS value
FROM read_parquet('{dir}/claims.parquet');

-- Rules on columns the dataset does not have yet (expected names in `-- needs:`); the runner reports them
-- as "column missing" until the columns exist.

-- name: I56_report_date_after_loss
-- kind: impossible
-- needs: claims.report_date
SELECT count(*) FILTER (WHERE report_date < claim_date OR report_date > DATE '{as_of}') AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet');

-- name: I57_close_date_consistent_with_status
-- kind: impossible
-- needs: claims.report_date, claims.close_date
SELECT count(*) FILTER (WHERE close_date < report_date OR close_date > DATE '{as_of}'
                           OR (status IN ('Closed', 'Denied')) <> (close_date IS NOT NULL)) AS violations,
       count(*) AS total
FROM read_parquet('{dir}/claims.parquet');

-- name: I58_settlement_time_by_peril
-- kind: implausible
-- needs: claims.report_date, claims.close_date
-- Median days from report to close: glass at most 14, collision and comprehensive 7 to 60, liability longer than collision.
WITH m AS (SELECT claim_type, median(close_date - report_date) AS d FROM read_parquet('{dir}/claims.parquet')
           WHERE close_date IS NOT NULL GROUP BY claim_type)
SELECT CASE WHEN (SELECT d FROM m WHERE claim_type = 'Glass') > 14
              OR (SELECT d FROM m WHERE claim_type = 'Collision') NOT BETWEEN 7 AND 60
              OR (SELECT d FROM m WHERE claim_type = 'Liability') <= (SELECT d FROM m WHERE claim_type = 'Collision')
            THEN 1 ELSE 0 END AS violations, 1 AS total, (SELECT d FROM m WHERE claim_type = 'Collision') AS value;

-- name: I59_damage_claim_above_deductible
-- kind: implausible
-- needs: policies.deductible
-- A physical-damage claim below the deductible is not filed (nothing to pay): at most 5% of them.
SELECT count(*) FILTER (WHERE cl.claim_amount <= po.deductible) AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)
WHERE cl.claim_type IN ('Collision', 'Comprehensive', 'Glass', 'Theft');

-- name: I60_liability_claim_within_limit
-- kind: impossible
-- needs: policies.liability_limit
SELECT count(*) FILTER (WHERE cl.claim_amount > po.liability_limit) AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)
WHERE cl.claim_type IN ('Liability', 'Medical');

-- name: I61_damage_claim_within_vehicle_value
-- kind: impossible
-- needs: vehicles.vehicle_value
SELECT count(*) FILTER (WHERE cl.claim_amount > v.vehicle_value) AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)
JOIN read_parquet('{dir}/vehicles.parquet') v USING (vehicle_id)
WHERE cl.claim_type IN ('Collision', 'Comprehensive', 'Theft');

-- name: I62_vehicle_value_falls_with_age
-- kind: implausible
-- needs: vehicles.vehicle_value
SELECT CASE WHEN avg(vehicle_value) FILTER (WHERE year(DATE '{as_of}') - model_year <= 3)
                 < 2 * avg(vehicle_value) FILTER (WHERE year(DATE '{as_of}') - model_year >= 12) THEN 1 ELSE 0 END
         AS violations, 1 AS total,
       avg(vehicle_value) FILTER (WHERE year(DATE '{as_of}') - model_year <= 3)
         / avg(vehicle_value) FILTER (WHERE year(DATE '{as_of}') - model_year >= 12) AS value
FROM read_parquet('{dir}/vehicles.parquet');

-- name: I63_no_claim_after_cancellation
-- kind: impossible
-- needs: policies.cancellation_date
SELECT count(*) FILTER (WHERE cl.claim_date >= po.cancellation_date) AS violations, count(*) AS total
FROM read_parquet('{dir}/claims.parquet') cl JOIN read_parquet('{dir}/policies.parquet') po USING (policy_id)
WHERE po.status = 'Cancelled';
