-- Certificates as signed Open Badges 3.0 credentials (issue 21; decisions 230-236).
--
-- A certificate keeps its row; the server signs its credential (a VC-JWT, EdDSA) with the
-- instance's key, which never enters the database. What the database keeps: the signed
-- credential and the key id, the certificate's bit in the revocation list (status_index,
-- from a sequence, never reused), and who revoked it, when and why. The public halves of
-- every signing key the instance ever used are published from certificate_signing_keys.

CREATE SEQUENCE certificate_status_index AS bigint MINVALUE 0 START 0;

ALTER TABLE certificates
  ADD COLUMN status_index bigint NOT NULL DEFAULT nextval('certificate_status_index'),
  ADD COLUMN credential text,
  ADD COLUMN credential_kid text,
  ADD COLUMN revoked_at timestamptz,
  ADD COLUMN revoked_by uuid REFERENCES profiles(id) ON DELETE SET NULL,
  ADD COLUMN revocation_reason text
    CHECK (revocation_reason IS NULL OR char_length(revocation_reason) BETWEEN 1 AND 500),
  ADD CONSTRAINT certificates_status_index_key UNIQUE (status_index),
  ADD CONSTRAINT certificates_revoked_consistently
    CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL));
ALTER SEQUENCE certificate_status_index OWNED BY certificates.status_index;
GRANT USAGE ON SEQUENCE certificate_status_index TO authenticated, service_role;
-- A revoked certificate is one that no longer stands.
UPDATE certificates SET revoked_at = issued_at, revocation_reason = 'Revoked before signed credentials'
WHERE NOT is_valid;
CREATE INDEX idx_certificates_revoked ON certificates(status_index) WHERE revoked_at IS NOT NULL;
-- Deleting a profile sets revoked_by to NULL: the foreign key needs its index (house rule).
CREATE INDEX idx_certificates_revoked_by ON certificates(revoked_by) WHERE revoked_by IS NOT NULL;

-- The public keys (JWKs) of every Ed25519 key that ever signed a credential: anyone reads
-- them (they are the JWK Set); the server adds its own as service_role; admins may withdraw
-- a compromised one (its credentials then read "unknown key").
CREATE TABLE certificate_signing_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kid text UNIQUE NOT NULL CHECK (char_length(kid) BETWEEN 1 AND 100),
  public_jwk jsonb NOT NULL CHECK (public_jwk->>'kty' = 'OKP' AND public_jwk->>'kid' = kid),
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE certificate_signing_keys ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON certificate_signing_keys TO anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON certificate_signing_keys TO authenticated, service_role;
CREATE POLICY certificate_signing_keys_select ON certificate_signing_keys FOR SELECT
  TO anon, authenticated USING (true);
CREATE POLICY certificate_signing_keys_insert ON certificate_signing_keys FOR INSERT
  TO authenticated WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY certificate_signing_keys_update ON certificate_signing_keys FOR UPDATE
  TO authenticated USING ((SELECT private.is_admin())) WITH CHECK ((SELECT private.is_admin()));
CREATE POLICY certificate_signing_keys_delete ON certificate_signing_keys FOR DELETE
  TO authenticated USING ((SELECT private.is_admin()));
