-- How many "no" answers HasMaatregel gave each asking organisation per UTC day (issue "Access
-- that holds at every seam", item 5: probing is limited per organisation). Rows older than
-- yesterday are deleted as new ones are counted.
CREATE TABLE maatregel_no_answers (
    oin       TEXT NOT NULL,
    day       BIGINT NOT NULL,
    answers   BIGINT NOT NULL,
    PRIMARY KEY (oin, day)
);
