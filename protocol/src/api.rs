//! Request and response bodies of the broker API v1 (see `docs/openapi.yaml`).
//! Requests reject unknown fields: a typo in a field name is an error, not a
//! silently ignored value.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::document::{Document, DocumentType};

/// `POST /v1/sessions`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The officer's login.
    pub login: String,
    /// The password.
    pub password: String,
    /// The current six-digit TOTP code.
    pub totp: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/sessions/certificate`: a police terminal's login. The terminal
/// is identified by its client certificate; the officer gives a PIN.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinLoginRequest {
    /// The officer's PIN.
    pub pin: String,
}

impl std::fmt::Debug for PinLoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinLoginRequest(<redacted>)")
    }
}

/// An officer as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerView {
    /// Stable id.
    pub id: String,
    /// Login name.
    pub login: String,
    /// Name shown on screens (the officer's, not a citizen's).
    pub display_name: String,
    /// Policy role, e.g. `clerk`.
    pub role: String,
    /// Organisational unit.
    pub unit: String,
}

/// The officer's daily query allowance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaView {
    /// Attempts counted today.
    pub used: u32,
    /// Attempts allowed today (role limit plus any extra allowance).
    pub limit: u32,
    /// Local midnight, when the count starts again.
    pub resets_at: DateTime<Utc>,
}

/// `201` answer to `POST /v1/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionCreated {
    /// Opaque bearer token.
    pub token: String,
    /// End of shift.
    pub expires_at: DateTime<Utc>,
    /// Who is logged in.
    pub officer: OfficerView,
    /// Today's quota.
    pub quota: QuotaView,
}

/// `GET /v1/me`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Me {
    /// Who is logged in.
    pub officer: OfficerView,
    /// Today's quota.
    pub quota: QuotaView,
    /// What the officer's role may ask for.
    pub permissions: Permissions,
}

/// What a role may ask for, so a terminal offers only those choices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// Documents the role may request.
    pub documents: Vec<DocumentType>,
    /// Purposes the role may state.
    pub purposes: Vec<String>,
    /// Whether every check needs a case reference.
    pub case_reference_required: bool,
    /// Whether checks need the citizen's SMS code.
    pub consent: String,
    /// Seconds a released document stays on screen.
    pub display_seconds: u32,
    /// Seconds of inactivity after which the terminal locks itself.
    pub idle_seconds: u32,
    /// Whether the officer may use the security officer's calls.
    pub administers: bool,
    /// Each document the role may ask for with the purposes that cover it,
    /// so a terminal offers only combinations the broker would accept.
    /// Empty from a broker that predates it: then every pair is offered.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Ways the role may name a subject; empty means PESEL only.
    #[serde(default)]
    pub subjects: Vec<SubjectKind>,
    /// Bundles the role may run.
    #[serde(default)]
    pub bundles: Vec<BundleChoice>,
    /// Whether the role may break glass (`POST /v1/break-glass`).
    #[serde(default)]
    pub break_glass: bool,
    /// What a break-glass commits the officer to, where the role may
    /// break glass; absent from a broker that predates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass_terms: Option<BreakGlassTerms>,
}

/// The policy's `[break_glass]` terms, so a terminal can say them before
/// the officer commits: the deadline, the day's cap, the justification's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassTerms {
    /// Hours a supervisor has to countersign; unsigned past them, the
    /// officer's account is locked.
    pub deadline_hours: u32,
    /// Break-glass checks an officer may make a day.
    pub per_day: u32,
    /// Longest justification kept, in characters.
    pub justification_max_chars: u32,
}

impl Permissions {
    /// The purposes offered for `document`: those the broker listed for it,
    /// or every purpose of the role when the broker lists no choices.
    pub fn purposes_for(&self, document: DocumentType) -> Vec<String> {
        if self.choices.is_empty() {
            return self.purposes.clone();
        }
        self.choices
            .iter()
            .find(|c| c.document == document)
            .map(|c| c.purposes.clone())
            .unwrap_or_default()
    }

    /// The documents offered: those with at least one purpose.
    pub fn offered_documents(&self) -> Vec<DocumentType> {
        if self.choices.is_empty() {
            return self.documents.clone();
        }
        self.choices
            .iter()
            .filter(|c| !c.purposes.is_empty())
            .map(|c| c.document)
            .collect()
    }

    /// The subject kinds offered; PESEL when the broker names none.
    pub fn subject_kinds(&self) -> Vec<SubjectKind> {
        if self.subjects.is_empty() {
            vec![SubjectKind::Pesel]
        } else {
            self.subjects.clone()
        }
    }
}

/// A bundle a role may run, as the terminal offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleChoice {
    /// The bundle's policy name, e.g. `traffic_stop`.
    pub name: String,
    /// Its documents, in the order the result shows them.
    pub documents: Vec<DocumentType>,
    /// Whether a PESEL must be given (some part is the person's).
    pub needs_pesel: bool,
    /// Whether a plate must be given (some part is the vehicle's).
    pub needs_plate: bool,
    /// Whether the person may be named by licence number instead of PESEL
    /// (a traffic stop's driver, for a role with document number lookup).
    #[serde(default)]
    pub person_by_licence: bool,
}

/// `POST /v1/bundles`: several documents as one counted, audited check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleRequest {
    /// The bundle's policy name.
    pub bundle: String,
    /// The person (PESEL, or a driver's licence number where the bundle's
    /// choice says `person_by_licence`) and/or the vehicle (plate).
    pub subject: Subject,
    /// Case or file reference, required for some roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_reference: Option<String>,
    /// The photo the terminal can draw (bundles released at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<PhotoFit>,
}

/// How one part of a bundle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartStatus {
    /// Not yet released (the bundle awaits the citizen's code).
    Pending,
    /// Released: the document is in the part.
    Released,
    /// The register holds no such document.
    NotFound,
    /// The register did not answer; the other parts still show.
    Unavailable,
}

/// One part of a bundle's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartResult {
    /// Which document.
    pub kind: DocumentType,
    /// How it ended.
    pub status: PartStatus,
    /// When released: the document cut to the part's purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
    /// When released: the log-signed receipt of this part's release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// Answer to `POST /v1/bundles` and `POST /v1/bundles/{id}/code`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleVerification {
    /// The check's id (the challenge's, while awaiting a code).
    pub id: String,
    /// The bundle's policy name.
    pub bundle: String,
    /// Where it stands.
    pub status: VerificationStatus,
    /// While awaiting the code: when it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// While awaiting the code: wrong codes still allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// While awaiting the code: the phone it went to, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// Each part, in the bundle's order.
    pub parts: Vec<PartResult>,
    /// When completed: until when the terminal may show them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_until: Option<DateTime<Utc>>,
    /// The officer's quota after this call.
    pub quota: QuotaView,
}

/// A document a role may ask for, and the purposes that release some of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The document.
    pub document: DocumentType,
    /// Purposes of the role that cover it.
    pub purposes: Vec<String>,
}

/// What names the subject of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// The citizen's PESEL.
    Pesel,
    /// A vehicle's registration number (vehicle documents only).
    Plate,
    /// An identity card's series and number (the identity card only).
    IdCardNumber,
    /// A driving licence number (the driving licence only).
    LicenceNumber,
}

impl SubjectKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Pesel => "pesel",
            SubjectKind::Plate => "plate",
            SubjectKind::IdCardNumber => "id_card_number",
            SubjectKind::LicenceNumber => "licence_number",
        }
    }
}

/// Whose document is asked for.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// The citizen's PESEL as typed; validated by the broker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pesel: Option<String>,
    /// Or a vehicle's registration number, for roles the policy lets look
    /// vehicles up by plate (the owner is then the citizen checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    /// Or an identity card's series and number (`ABA300000`), for roles the
    /// policy lets look documents up by number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_card_number: Option<String>,
    /// Or a driving licence number (`01234/19/1465`), likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_number: Option<String>,
}

/// Wipes whatever names the subject (each is citizen data).
impl zeroize::Zeroize for Subject {
    fn zeroize(&mut self) {
        for v in [
            &mut self.pesel,
            &mut self.plate,
            &mut self.id_card_number,
            &mut self.licence_number,
        ]
        .into_iter()
        .flatten()
        {
            v.zeroize();
        }
    }
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Subject(<redacted>)")
    }
}

/// The largest photo the terminal can draw, in pixels: the broker sends the
/// photo only when it fits a non-empty box, scaled down to fit it. A
/// terminal that cannot draw a photo sends `0x0` and gets none (nor does the
/// audit record one as released). Absent, the photo comes as the register
/// gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoFit {
    /// Most pixels across.
    pub width: u16,
    /// Most pixels down.
    pub height: u16,
}

impl PhotoFit {
    /// No photo wanted.
    pub const NONE: PhotoFit = PhotoFit {
        width: 0,
        height: 0,
    };

    /// Whether a photo is wanted at all.
    pub fn wants_photo(self) -> bool {
        self.width > 0 && self.height > 0
    }
}

/// Whether a request with this preference releases the photo.
pub fn photo_wanted(fit: Option<PhotoFit>) -> bool {
    fit.is_none_or(PhotoFit::wants_photo)
}

/// `POST /v1/verifications`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    /// The citizen.
    pub subject: Subject,
    /// Which document.
    pub document: DocumentType,
    /// Why (a purpose named in the policy).
    pub purpose: String,
    /// Case or file reference, required for some roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_reference: Option<String>,
    /// The photo the terminal can draw (checks released at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<PhotoFit>,
}

/// Where a verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// The SMS was sent; waiting for the citizen's code.
    AwaitingCode,
    /// The document was released.
    Completed,
}

/// Answer to `POST /v1/verifications` and `POST /v1/verifications/{id}/code`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verification {
    /// The challenge / verification id.
    pub id: String,
    /// Where it stands.
    pub status: VerificationStatus,
    /// While awaiting the code: when the code expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// While awaiting the code: wrong codes still allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// While awaiting the code: the phone number it went to, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// When completed: the document cut to the purpose's fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
    /// When completed: until when the terminal may show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_until: Option<DateTime<Utc>>,
    /// When completed: the log-signed receipt of the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    /// When the code of a bundle's challenge was right: the bundle's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// When the code of a bundle's challenge was right: each part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartResult>,
    /// The officer's quota after this call.
    pub quota: QuotaView,
}

/// A receipt of a released document, signed with the audit log's key: which
/// check, by which unit, of which document, for which purpose, which fields,
/// when, and the hash of its leaf in the audit log. It holds no PESEL, name
/// or document content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// The verification id.
    pub verification: String,
    /// The checking officer's unit.
    pub unit: String,
    /// The document released.
    pub document: String,
    /// The purpose stated.
    pub purpose: String,
    /// Names of the fields released.
    pub fields: Vec<String>,
    /// When, as recorded.
    pub at: DateTime<Utc>,
    /// The audit log's origin.
    pub log: String,
    /// RFC 6962 leaf hash of the audit record, hex.
    pub leaf_hash: String,
    /// Ed25519 signature (base64) by the log key over
    /// `okaz-receipt/v1\n` followed by this object's JSON without `signature`.
    pub signature: String,
}

/// `POST /v1/verifications/{id}/code`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The six digits the citizen read out.
    pub code: String,
    /// The photo the terminal can draw (the release comes with the code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<PhotoFit>,
}

impl std::fmt::Debug for CodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeRequest(<redacted>)")
    }
}

/// One locked account, for the security officer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockoutView {
    /// The locked officer.
    pub officer: OfficerView,
    /// When.
    pub locked_at: DateTime<Utc>,
    /// Why (e.g. `daily_limit_exceeded`).
    pub reason: String,
    /// Attempts counted today.
    pub attempts_today: u32,
}

/// `POST /v1/admin/officers/{id}/unlock`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    /// Why the account is unlocked; required and audited.
    pub reason: String,
    /// Extra checks allowed today on top of the role's limit.
    #[serde(default)]
    pub extra_allowance: u32,
}

/// `POST /v1/admin/officers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOfficer {
    /// Login name.
    pub login: String,
    /// Name shown on screens.
    pub display_name: String,
    /// Policy role.
    pub role: String,
    /// Unit; a security officer may only create officers in their own unit.
    pub unit: String,
}

/// Answer to creating an officer: the first password and the TOTP URI, shown once.
#[derive(Clone, Serialize, Deserialize)]
pub struct OfficerCreated {
    /// The new officer.
    pub officer: OfficerView,
    /// Password to hand over; to be changed at first login.
    pub initial_password: String,
    /// `otpauth://` URI for the authenticator app.
    pub totp_uri: String,
}

impl std::fmt::Debug for OfficerCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficerCreated")
            .field("officer", &self.officer)
            .finish_non_exhaustive()
    }
}

/// An account as the security officer manages it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountView {
    /// The officer.
    pub officer: OfficerView,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Since when it is locked, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_at: Option<DateTime<Utc>>,
    /// Why it is locked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_reason: Option<String>,
}

/// A body that only carries a reason (disable, enable).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why; required and audited.
    pub reason: String,
}

/// `POST /v1/admin/officers/{id}/certificate`: bind a terminal certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindCertificateRequest {
    /// SHA-256 of the certificate's DER, 64 hex digits.
    pub fingerprint: String,
}

/// A new credential, shown once to the security officer to hand over.
#[derive(Clone, Serialize, Deserialize)]
pub struct CredentialReset {
    /// The new password, when the password was reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_password: Option<String>,
    /// The new `otpauth://` URI, when the TOTP secret was reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_uri: Option<String>,
}

impl std::fmt::Debug for CredentialReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialReset(<redacted>)")
    }
}

/// One audit record as the security officer sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditRecordView {
    /// Position in its chain.
    pub seq: i64,
    /// The chain (one per officer).
    pub chain: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The event kind, e.g. `verification_started`.
    pub event: String,
    /// Officer id who acted.
    pub officer: String,
    /// Their unit.
    pub unit: String,
    /// The citizen's pseudonym, never their PESEL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen: Option<String>,
    /// Document asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentType>,
    /// Purpose stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Outcome code.
    pub outcome: String,
    /// Names of released fields (never values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Hash of this record (hex).
    pub hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused() {
        let r: Result<VerificationRequest, _> = serde_json::from_str(
            r#"{"subject":{"pesel":"1"},"document":"id_card","purpose":"x","color":"red"}"#,
        );
        assert!(r.is_err());
    }

    #[test]
    fn secrets_are_not_in_debug() {
        let l = LoginRequest {
            login: "a".into(),
            password: "hunter2".into(),
            totp: "123456".into(),
        };
        let s = format!("{l:?}");
        assert!(!s.contains("hunter2") && !s.contains("123456"));
        let s = format!(
            "{:?}",
            Subject {
                pesel: Some("44051401359".into()),
                ..Default::default()
            }
        );
        assert!(!s.contains("4405"));
    }

    #[test]
    fn permissions_from_a_broker_without_break_glass_say_no() {
        let p: Permissions = serde_json::from_str(
            r#"{"documents":[],"purposes":[],"case_reference_required":false,
                "consent":"sms","display_seconds":60,"idle_seconds":300,"administers":false}"#,
        )
        .unwrap();
        assert!(!p.break_glass);
    }

    #[test]
    fn a_subject_is_wiped_whole() {
        use zeroize::Zeroize;
        let mut s = Subject {
            pesel: Some("44051401359".into()),
            plate: Some("WA1234X".into()),
            ..Default::default()
        };
        s.zeroize();
        assert_eq!(s.pesel.as_deref(), Some(""));
        assert_eq!(s.plate.as_deref(), Some(""));
    }
}
