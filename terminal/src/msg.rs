//! What flows into `update` (messages) and out of it (commands).

use chrono::{DateTime, NaiveDate, Utc};
use okaz_protocol::{
    AuditRecordView, BundleRequest, BundleVerification, ErrorCode, LockoutView, LoginRequest, Me,
    OfficerView, PinLoginRequest, QuotaView, UnlockRequest, Verification, VerificationRequest,
};

pub use crate::failure::Failure;

/// A key press, independent of the terminal library so tests can type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter.
    Enter,
    /// Tab.
    Tab,
    /// Shift+Tab.
    BackTab,
    /// Backspace.
    Backspace,
    /// Escape.
    Esc,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// A function key, `F(2)` is F2.
    F(u8),
    /// Ctrl+C: quit from anywhere.
    Interrupt,
}

impl Msg {
    /// The failure an answer carries, if it is one.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Msg::LoggedIn(Err(f))
            | Msg::Me(Err(f))
            | Msg::Started(Err(f))
            | Msg::BundleStarted(Err(f))
            | Msg::CodeChecked(Err(f))
            | Msg::Lockouts(Err(f))
            | Msg::Unlocked(Err(f))
            | Msg::Audit(Err(f))
            | Msg::BreakGlassList(Err(f))
            | Msg::BreakGlassDecided(Err(f))
            | Msg::Signals(Err(f))
            | Msg::BrokeGlass(Err(f)) => Some(f),
            Msg::Admin(a) => a.failure(),
            _ => None,
        }
    }
}

/// A successful login, without the token: the client keeps the token so
/// that it never sits in the model.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// Who logged in.
    pub officer: OfficerView,
    /// Today's quota.
    pub quota: QuotaView,
    /// End of shift.
    pub expires_at: DateTime<Utc>,
}

/// Everything `update` reacts to.
#[derive(Debug)]
pub enum Msg {
    /// A key was pressed.
    Key(Key),
    /// Time passed; `update` never reads the clock itself.
    Tick(DateTime<Utc>),
    /// Answer to [`Command::Login`].
    LoggedIn(Result<LoggedIn, Failure>),
    /// Answer to [`Command::FetchMe`].
    Me(Result<Me, Failure>),
    /// Answer to [`Command::Start`].
    Started(Result<Verification, Failure>),
    /// Answer to [`Command::StartBundle`].
    BundleStarted(Result<BundleVerification, Failure>),
    /// Answer to [`Command::SubmitCode`].
    CodeChecked(Result<Verification, Failure>),
    /// Answer to [`Command::Lockouts`].
    Lockouts(Result<Vec<LockoutView>, Failure>),
    /// Answer to [`Command::Unlock`].
    Unlocked(Result<(), Failure>),
    /// Answer to [`Command::Audit`].
    Audit(Result<Vec<AuditRecordView>, Failure>),
    /// No answer came; the call is being sent again (the n-th time).
    Retrying(u32),
    /// Demo only: the sample citizens' SMS, newest first.
    Inbox(Vec<String>),
    /// Demo only: the demo accounts' current TOTP codes, in panel order.
    DemoCodes(Vec<String>),
    /// Answer to [`Command::Admin`].
    Admin(crate::msg_admin::AdminAnswer),
    /// Answer to [`Command::BreakGlassList`].
    BreakGlassList(Result<Vec<okaz_protocol::BreakGlassView>, Failure>),
    /// Answer to [`Command::DecideBreakGlass`].
    BreakGlassDecided(Result<okaz_protocol::BreakGlassView, Failure>),
    /// Answer to [`Command::Signals`].
    Signals(Result<okaz_protocol::SignalsView, Failure>),
    /// Answer to [`Command::BreakGlass`].
    BrokeGlass(Result<Verification, Failure>),
    /// Answer to [`Command::Watch`]: what waits for the unit.
    Watch(crate::alert::WatchAnswer),
}

/// Filters of an audit search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Officer id.
    pub officer: Option<String>,
    /// Citizen's PESEL; the broker turns it into the pseudonym.
    pub pesel: Option<String>,
    /// First day (inclusive).
    pub since: Option<NaiveDate>,
    /// Last day (inclusive).
    pub until: Option<NaiveDate>,
    /// Most records to return.
    pub limit: u32,
}

/// What `update` asks the outside world to do.
#[derive(Debug)]
pub enum Command {
    /// `POST /v1/sessions`.
    Login(LoginRequest),
    /// `POST /v1/sessions/certificate`: the terminal's certificate + the PIN.
    PinLogin(PinLoginRequest),
    /// `GET /v1/me`.
    FetchMe,
    /// `POST /v1/verifications`.
    Start(VerificationRequest),
    /// `POST /v1/bundles`.
    StartBundle(BundleRequest),
    /// `POST /v1/verifications/{id}/code`.
    SubmitCode {
        /// Verification id.
        id: String,
        /// The six digits.
        code: String,
        /// The photo the screen after it can draw.
        photo: okaz_protocol::PhotoFit,
    },
    /// `DELETE /v1/verifications/{id}`; no answer is awaited.
    Cancel {
        /// Verification id.
        id: String,
    },
    /// `DELETE /v1/sessions/current`, then forget the token.
    Logout,
    /// `GET /v1/admin/lockouts`.
    Lockouts,
    /// `POST /v1/admin/officers/{id}/unlock`.
    Unlock {
        /// Officer id.
        officer: String,
        /// Reason and extra allowance.
        request: UnlockRequest,
    },
    /// `GET /v1/admin/audit`.
    Audit(AuditQuery),
    /// Leave the program.
    Quit,
    /// A call on the accounts of the unit (security officer).
    Admin(crate::msg_admin::AdminCall),
    /// `GET /v1/admin/break-glass`.
    BreakGlassList,
    /// `POST /v1/admin/break-glass/{id}/decision`.
    DecideBreakGlass {
        /// Break-glass id.
        id: String,
        /// Countersign or reject, with a reason.
        request: okaz_protocol::BreakGlassDecision,
    },
    /// `GET /v1/admin/signals`.
    Signals,
    /// `POST /v1/break-glass`: the officer's emergency check.
    BreakGlass(okaz_protocol::BreakGlassRequest),
    /// The supervisor's background poll: `GET /v1/admin/break-glass` and
    /// `GET /v1/admin/disputes`, run beside the officer's own calls.
    Watch {
        /// Tags the answer, so one for an older poll is recognised.
        generation: u64,
    },
    /// Ring the terminal bell once (a break-glass arrived).
    Bell,
}

/// Every error code, for tests that must cover each one.
pub const ALL_CODES: [ErrorCode; ErrorCode::ALL.len()] = ErrorCode::ALL;
