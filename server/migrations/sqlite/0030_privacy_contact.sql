-- How a family reaches an organisation's privacy officer (FG), printed in the letters the hub
-- writes for the family (docs/FAMILY.md); empty until the operator registers it.
ALTER TABLE organizations ADD COLUMN privacy_contact TEXT NOT NULL DEFAULT '';
