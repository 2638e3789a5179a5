-- Zorgmeldingen a Veilig Thuis gateway received: the melding as the hub delivered it (encoded
-- signaalhub.v1.Zorgmelding), its fragments' envelopes still sealed. A late fragment brings a new
-- version of the same melding, which replaces the stored one. No BSN and no plaintext: the hub
-- sends only the number of persons, and fragments are opened when a professional looks at them.
CREATE TABLE zorgmeldingen (
    zorgmelding_id      TEXT    PRIMARY KEY,
    police_oin          TEXT    NOT NULL,
    registration_number TEXT    NOT NULL,
    version             INTEGER NOT NULL,
    fragment_count      INTEGER NOT NULL,
    complete            INTEGER NOT NULL,
    cursor              INTEGER NOT NULL,
    retain_until        INTEGER,
    melding             BLOB    NOT NULL,
    received_at         INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX zorgmeldingen_by_update ON zorgmeldingen (updated_at);
