//! What the hub can see of a sealed envelope: who sealed it, what it is bound to and to whom its
//! data key is sealed. The payload stays opaque; `encoded` is stored and handed on as received.

/// The metadata an envelope's AEAD additional data binds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Binding {
    /// The id of the thing the envelope carries (signal id, fragment id, plan binding id).
    pub signal_id: String,
    /// The purpose.
    pub purpose: String,
    /// The categories, in the sender's order.
    pub categories: Vec<String>,
    /// The canonical basis reference (`Basis::reference`).
    pub basis_reference: String,
    /// When the sender sealed it (unix seconds, as the sender says).
    pub created_at: i64,
    /// The sender's content digest (opaque to the hub; empty when the envelope has none): the
    /// same id with another digest is other content (`flows::idempotency`).
    pub content_digest: Vec<u8>,
}

/// One data key sealed to a recipient's published encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedTo {
    /// The recipient organisation (as written in the envelope; checked against the directory).
    pub recipient_oin: String,
    /// The id of the recipient's encryption key it is sealed to.
    pub key_id: String,
}

/// A structurally valid envelope (the edge checked version, sizes and lengths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEnvelope {
    /// The sender's OIN as the envelope states it.
    pub sender_oin: String,
    /// The id of the sender's signing key.
    pub signing_key_id: String,
    /// What the envelope is bound to.
    pub binding: Binding,
    /// To whom the data key is sealed.
    pub sealed_to: Vec<SealedTo>,
    /// The Ed25519 signature.
    pub signature: Vec<u8>,
    /// The canonical bytes the signature covers.
    pub signing_input: Vec<u8>,
    /// The envelope as received, to store and hand on.
    pub encoded: Vec<u8>,
}
