-- A maatregel that ends hands back (issue 19, item 6): who has the case next (e.g. the wijkteam
-- taking over again from the GI), recorded when the maatregel is ended.
ALTER TABLE maatregelen ADD COLUMN next_oin TEXT;
