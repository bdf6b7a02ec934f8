-- Times for an age group, such as vaccination for people 65 and older: only
-- patients at least min_age years old on the day of the time (its start
-- date in Europe/Stockholm) find it in search and may book it; 0: everyone.
-- Booking checks it in the same conditional UPDATE that takes the place, so
-- it costs no statement of its own. Invitations by a clinician are not
-- restricted.
ALTER TABLE slot ADD COLUMN min_age integer NOT NULL DEFAULT 0 CHECK (min_age BETWEEN 0 AND 120);

---- create above / drop below ----

ALTER TABLE slot DROP COLUMN min_age;
