//! Fixed test data: fixed times, ids and people, so snapshots are stable.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use okaz_protocol::{
    AuditRecordView, Choice, Document, DocumentStatus, DocumentType, ErrorCode, FieldValue,
    LockoutView, Me, OfficerView, Permissions, Photo, Problem, QuotaView, Source, SubjectKind,
    Verification, VerificationStatus,
};
use okaz_terminal::i18n::Lang;
use okaz_terminal::msg::LoggedIn;
use okaz_terminal::profile::Profile;
use okaz_terminal::{update, view, Command, Failure, Key, Model, Msg};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// A valid PESEL (published example).
pub const PESEL: &str = "44051401359";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub fn officer() -> OfficerView {
    OfficerView {
        id: "off-7".into(),
        login: "akowalska".into(),
        display_name: "Anna Kowalska".into(),
        role: "clerk".into(),
        unit: "USC Mokotów".into(),
    }
}

pub fn quota(used: u32) -> QuotaView {
    QuotaView {
        used,
        limit: 50,
        resets_at: Utc.with_ymd_and_hms(2026, 3, 2, 23, 0, 0).unwrap(),
    }
}

pub fn clerk() -> Permissions {
    Permissions {
        documents: vec![DocumentType::IdCard, DocumentType::DrivingLicence],
        purposes: vec!["identity_confirmation".into(), "age_check".into()],
        case_reference_required: false,
        consent: "sms".into(),
        display_seconds: 30,
        idle_seconds: 300,
        administers: false,
        choices: Vec::new(),
        subjects: Vec::new(),
        bundles: Vec::new(),
        break_glass: false,
        break_glass_terms: None,
    }
}

pub fn police() -> Permissions {
    Permissions {
        documents: vec![
            DocumentType::DrivingLicence,
            DocumentType::VehicleRegistration,
        ],
        purposes: vec!["operational_check".into()],
        case_reference_required: true,
        consent: "none".into(),
        display_seconds: 60,
        idle_seconds: 120,
        administers: false,
        choices: Vec::new(),
        subjects: Vec::new(),
        bundles: Vec::new(),
        break_glass: false,
        break_glass_terms: None,
    }
}

/// Police who may ask for `docs`, each for an operational check, naming
/// the subject by one of `subjects`.
pub fn police_for(docs: &[DocumentType], subjects: Vec<SubjectKind>) -> Permissions {
    Permissions {
        documents: docs.to_vec(),
        choices: docs
            .iter()
            .map(|d| Choice {
                document: *d,
                purposes: vec!["operational_check".into()],
            })
            .collect(),
        subjects,
        ..police()
    }
}

/// Police as the default policy's `GET /v1/me` says: PESEL or plate, and
/// each document with the purposes that cover it.
pub fn police_patrol() -> Permissions {
    let docs = [
        DocumentType::IdCard,
        DocumentType::DrivingLicence,
        DocumentType::VehicleRegistration,
        DocumentType::TechnicalInspection,
        DocumentType::OcInsurance,
    ];
    Permissions {
        bundles: vec![okaz_protocol::BundleChoice {
            name: "traffic_stop".into(),
            documents: vec![
                DocumentType::DrivingLicence,
                DocumentType::VehicleRegistration,
                DocumentType::TechnicalInspection,
                DocumentType::OcInsurance,
            ],
            needs_pesel: true,
            needs_plate: true,
            person_by_licence: false,
        }],
        ..police_for(&docs, vec![SubjectKind::Pesel, SubjectKind::Plate])
    }
}

/// A clerk whose policy covers identity card only for identity checks and
/// driving licence only for licence checks.
pub fn clerk_with_choices() -> Permissions {
    Permissions {
        documents: vec![DocumentType::IdCard, DocumentType::DrivingLicence],
        purposes: vec!["identity_confirmation".into(), "licence_check".into()],
        choices: vec![
            Choice {
                document: DocumentType::IdCard,
                purposes: vec!["identity_confirmation".into()],
            },
            Choice {
                document: DocumentType::DrivingLicence,
                purposes: vec!["licence_check".into()],
            },
        ],
        ..clerk()
    }
}

/// Police as the default policy says, with break-glass (past the daily limit).
pub fn police_break_glass() -> Permissions {
    Permissions {
        break_glass: true,
        break_glass_terms: Some(default_terms()),
        ..police_patrol()
    }
}

/// The default policy's `[break_glass]` terms.
pub fn default_terms() -> okaz_protocol::BreakGlassTerms {
    okaz_protocol::BreakGlassTerms {
        deadline_hours: 12,
        per_day: 2,
        justification_max_chars: 500,
    }
}

/// An emergency medic: consent by SMS, break-glass when no code can be had.
pub fn emergency() -> Permissions {
    Permissions {
        documents: vec![DocumentType::IdCard],
        purposes: vec!["identity_confirmation".into()],
        break_glass: true,
        break_glass_terms: Some(default_terms()),
        ..clerk()
    }
}

pub fn security() -> Permissions {
    Permissions {
        administers: true,
        ..clerk()
    }
}

pub fn problem(code: ErrorCode, status: u16) -> Failure {
    Failure::Problem(Problem::new(code, status))
}

pub fn refused(code: ErrorCode) -> Failure {
    problem(code, 400)
}

/// A model logged in with `perms`, on the query form.
pub fn logged_in(lang: Lang, profile: Profile, perms: Permissions) -> Model {
    let mut m = Model::new(lang, profile, t0());
    update(
        &mut m,
        Msg::LoggedIn(Ok(LoggedIn {
            officer: officer(),
            quota: quota(3),
            expires_at: t0() + Duration::hours(8),
        })),
    );
    update(
        &mut m,
        Msg::Me(Ok(Me {
            officer: officer(),
            quota: quota(3),
            permissions: perms,
        })),
    );
    m
}

pub fn typed(m: &mut Model, s: &str) -> Vec<Command> {
    s.chars()
        .flat_map(|c| update(m, Msg::Key(Key::Char(c))))
        .collect()
}

pub fn key(m: &mut Model, k: Key) -> Vec<Command> {
    update(m, Msg::Key(k))
}

pub fn awaiting_verification() -> Verification {
    Verification {
        id: "v-1".into(),
        status: VerificationStatus::AwaitingCode,
        expires_at: Some(t0() + Duration::minutes(5)),
        attempts_left: Some(3),
        sent_to: Some("+48 *** *** 789".into()),
        document: None,
        display_until: None,
        receipt: None,
        bundle: None,
        parts: Vec::new(),
        quota: quota(4),
    }
}

pub fn document(status: DocumentStatus, photo: bool) -> Document {
    let mut fields = BTreeMap::new();
    let mut f = |k: &str, v: FieldValue| {
        fields.insert(k.to_string(), v);
    };
    f("document_number", FieldValue::Text("ABA300000".into()));
    f("given_names", FieldValue::Text("Jan Maria".into()));
    f("surname", FieldValue::Text("Nowak".into()));
    f("birth_date", FieldValue::Text("1944-05-14".into()));
    f("age_over_18", FieldValue::Flag(true));
    f("expiry_date", FieldValue::Text("2031-01-01".into()));
    Document {
        kind: DocumentType::IdCard,
        status,
        fields,
        photo: photo.then(|| Photo {
            media_type: "image/png".into(),
            data: okaz_terminal::photo::sample_png_base64(12, 16),
        }),
        source: Source {
            register: "persons".into(),
            fetched_at: t0(),
        },
    }
}

pub fn completed(doc: Document) -> Verification {
    Verification {
        id: "v-1".into(),
        status: VerificationStatus::Completed,
        expires_at: None,
        attempts_left: None,
        sent_to: None,
        document: Some(doc),
        display_until: Some(t0() + Duration::seconds(30)),
        receipt: None,
        bundle: None,
        parts: Vec::new(),
        quota: quota(4),
    }
}

/// Logged in as a clerk, on the awaiting screen for `v-1`.
pub fn at_awaiting(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, clerk());
    typed(&mut m, PESEL);
    let cmds = key(&mut m, Key::Enter);
    assert!(matches!(cmds.as_slice(), [Command::Start(_)]));
    update(&mut m, Msg::Started(Ok(awaiting_verification())));
    m
}

/// On the result screen with a valid ID card.
pub fn at_result(lang: Lang, profile: Profile, status: DocumentStatus, photo: bool) -> Model {
    let mut m = at_awaiting(lang, profile);
    typed(&mut m, "123456");
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::CodeChecked(Ok(completed(document(status, photo)))),
    );
    m
}

pub fn lockouts() -> Vec<LockoutView> {
    vec![
        LockoutView {
            officer: OfficerView {
                id: "off-9".into(),
                login: "pzielinski".into(),
                display_name: "Piotr Zieliński".into(),
                role: "clerk".into(),
                unit: "USC Mokotów".into(),
            },
            locked_at: t0() - Duration::minutes(42),
            reason: "daily_limit_exceeded".into(),
            attempts_today: 51,
        },
        LockoutView {
            officer: OfficerView {
                id: "off-12".into(),
                login: "mwisniewska".into(),
                display_name: "Maria Wiśniewska".into(),
                role: "clerk".into(),
                unit: "USC Mokotów".into(),
            },
            locked_at: t0() - Duration::minutes(5),
            reason: "wrong_codes".into(),
            attempts_today: 12,
        },
    ]
}

pub fn audit_records() -> Vec<AuditRecordView> {
    (0..3)
        .map(|i| AuditRecordView {
            seq: i,
            chain: "off-7".into(),
            at: t0() - Duration::minutes(10 * (3 - i)),
            event: ["verification_started", "code_accepted", "document_released"][i as usize]
                .into(),
            officer: "off-7".into(),
            unit: "USC Mokotów".into(),
            citizen: Some("ps-1f3a".into()),
            document: Some(DocumentType::IdCard),
            purpose: Some("identity_confirmation".into()),
            outcome: "ok".into(),
            fields: vec![],
            hash: "00".into(),
        })
        .collect()
}

/// Builds a screen's model for one language and device profile.
pub type Build = fn(Lang, Profile) -> Model;

/// Draws a model once on a test backend of `w` x `h`.
pub fn render(m: &Model, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view(m, f)).unwrap();
    t
}

/// Every drawing a screen's snapshots hold: both languages, on the
/// handheld (40x16) and the desktop (80x24), each with its name suffix
/// (`pl_40x16`). The caller asserts them, so insta names the snapshots
/// after the calling test file.
pub fn snapshot_screens(build: Build) -> Vec<(String, Terminal<TestBackend>)> {
    let mut out = Vec::new();
    for (lang, l) in [(Lang::Pl, "pl"), (Lang::En, "en")] {
        for (profile, w, h) in [(Profile::Handheld, 40, 16), (Profile::Desktop, 80, 24)] {
            out.push((format!("{l}_{w}x{h}"), render(&build(lang, profile), w, h)));
        }
    }
    out
}
