//! Cross-checks over the merged raw files, and the build of the model.
//!
//! Every check runs even after others failed, so one start-up attempt shows
//! the operator the whole list; the model is only handed out when the list
//! is empty.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::Duration;

use okaz_protocol::document::DocumentType;
use toml::Spanned;

mod bundle;
mod checker;
mod watch;

use self::bundle::check_bundle;
use self::checker::Checker;
use crate::bundle::{Bundle, PartSubject};
use crate::model::{
    AuthMethod, ConsentMode, Global, LoginThrottle, PolicySet, Purpose, Retention, Role,
};
use crate::problem::PolicyProblem;
use crate::raw::{RawBreakGlass, RawBundle, RawFile, RawGlobal, RawPurpose, RawRole, RawSignals};

/// The design caps a challenge at ten minutes: an SMS code that lives longer
/// invites relaying it to someone who is not at the counter.
const MAX_CHALLENGE_SECONDS: u64 = 600;
/// More wrong guesses than this per challenge make guessing a 6-digit code practical.
const MAX_CHALLENGE_ATTEMPTS: u32 = 10;
/// A document left on screen longer than this is no longer "shown", it is kept.
const MAX_DISPLAY_SECONDS: u64 = 600;
/// A citizen must see every check eventually; a month is the longest delay.
const MAX_HISTORY_DELAY_HOURS: u64 = 24 * 30;
/// A daily limit above this is no limit at all and would hide misuse.
const MAX_DAILY_LIMIT: u32 = 10_000;
/// The unlock allowance cap when the policy names none.
const DEFAULT_UNLOCK_ALLOWANCE_CAP: u32 = 50;
/// Disputes per citizen per day when the policy does not say.
const DEFAULT_DISPUTES_PER_DAY: u32 = 5;
/// More disputes a day than this is not a citizen but a script.
const MAX_DISPUTES_PER_DAY: u32 = 100;
/// A session never outlives a day.
const MAX_SHIFT_HOURS: u64 = 24;

/// Merges the files (index into `sources`, raw file) and checks them.
pub(crate) fn validate(
    sources: &[(String, String)],
    files: Vec<(usize, RawFile)>,
    mut problems: Vec<PolicyProblem>,
) -> Result<PolicySet, Vec<PolicyProblem>> {
    let mut c = Checker {
        sources,
        problems: Vec::new(),
    };
    let mut globals: Vec<(usize, RawGlobal)> = Vec::new();
    let mut roles: BTreeMap<String, (usize, Spanned<String>, RawRole)> = BTreeMap::new();
    let mut purposes: BTreeMap<String, (usize, Spanned<String>, RawPurpose)> = BTreeMap::new();
    let mut bundles: BTreeMap<String, (usize, Spanned<String>, RawBundle)> = BTreeMap::new();
    let mut break_glass: Vec<(usize, RawBreakGlass)> = Vec::new();
    let mut signals: Vec<(usize, RawSignals)> = Vec::new();
    for (file, raw) in files {
        break_glass.extend(raw.break_glass.map(|b| (file, b)));
        signals.extend(raw.signals.map(|s| (file, s)));
        if let Some(g) = raw.global {
            globals.push((file, g));
        }
        for (name, role) in raw.roles {
            merge(&mut c, "roles", &mut roles, file, name, role);
        }
        for (name, purpose) in raw.purposes {
            merge(&mut c, "purposes", &mut purposes, file, name, purpose);
        }
        for (name, bundle) in raw.bundles {
            merge(&mut c, "bundles", &mut bundles, file, name, bundle);
        }
    }

    let global = match globals.len() {
        0 => {
            c.report(
                usize::MAX,
                None,
                "global".into(),
                "no file defines [global]; exactly one must".into(),
            );
            None
        }
        _ => {
            let (first, _) = &globals[0];
            let first_name = c.name(*first).to_owned();
            for (file, _) in &globals[1..] {
                let span = c.header_span(*file, "global");
                let message = format!(
                    "[global] is defined in both {first_name} and {}; exactly one file may define it",
                    c.name(*file)
                );
                c.report(*file, span, "global".into(), message);
            }
            let (file, g) = &globals[0];
            check_global(&mut c, *file, g)
        }
    };

    let mut built_purposes = BTreeMap::new();
    for (name, (file, _, p)) in &purposes {
        built_purposes.insert(name.clone(), check_purpose(&mut c, *file, name, p));
    }
    let mut built_bundles = BTreeMap::new();
    for (name, (file, _, b)) in &bundles {
        built_bundles.insert(
            name.clone(),
            check_bundle(&mut c, *file, name, b, &built_purposes),
        );
    }
    let mut built_roles = BTreeMap::new();
    for (name, (file, _, r)) in &roles {
        let mut role = check_role(&mut c, *file, name, r, &built_purposes);
        role.bundles = check_role_bundles(&mut c, *file, name, r, &role, &built_bundles);
        built_roles.insert(name.clone(), role);
    }

    check_management(&mut c, &roles, &built_roles);
    check_break_glass_roles(&mut c, &roles, &built_roles);
    let break_glass = once(&mut c, "break_glass", &break_glass)
        .map(|(f, b)| watch::check_break_glass(&mut c, f, b))
        .unwrap_or_default();
    let signals = once(&mut c, "signals", &signals)
        .map(|(f, s)| watch::check_signals(&mut c, f, s))
        .unwrap_or_default();

    problems.append(&mut c.problems);
    match global {
        Some(global) if problems.is_empty() => Ok(PolicySet {
            global,
            roles: built_roles,
            purposes: built_purposes,
            bundles: built_bundles,
            break_glass,
            signals,
        }),
        _ => Err(problems),
    }
}

/// Adds one named entry, refusing a name that another file already defined.
fn merge<T>(
    c: &mut Checker<'_>,
    section: &str,
    into: &mut BTreeMap<String, (usize, Spanned<String>, T)>,
    file: usize,
    name: Spanned<String>,
    value: T,
) {
    if let Some((first, _, _)) = into.get(name.get_ref()) {
        let message = format!(
            "defined in both {} and {}; a name may be defined once",
            c.name(*first),
            c.name(file)
        );
        c.report(
            file,
            Some(name.span()),
            format!("{section}.{}", name.get_ref()),
            message,
        );
        return;
    }
    into.insert(name.get_ref().clone(), (file, name, value));
}

fn check_global(c: &mut Checker<'_>, file: usize, g: &RawGlobal) -> Option<Global> {
    let mut ok = true;
    let mut bad = |c: &mut Checker<'_>, span: Range<usize>, key: &str, message: String| {
        ok = false;
        c.report(file, Some(span), format!("global.{key}"), message);
    };
    let time_zone = match g.time_zone.get_ref().parse::<chrono_tz::Tz>() {
        Ok(tz) => tz,
        Err(_) => {
            let message = format!("unknown time zone \"{}\"", g.time_zone.get_ref());
            bad(c, g.time_zone.span(), "time_zone", message);
            chrono_tz::UTC
        }
    };
    let lifetime = *g.challenge_lifetime_seconds.get_ref();
    if !(1..=MAX_CHALLENGE_SECONDS).contains(&lifetime) {
        let message = format!("{lifetime} is outside 1..={MAX_CHALLENGE_SECONDS} seconds");
        bad(
            c,
            g.challenge_lifetime_seconds.span(),
            "challenge_lifetime_seconds",
            message,
        );
    }
    let attempts = *g.challenge_attempts.get_ref();
    if !(1..=MAX_CHALLENGE_ATTEMPTS).contains(&attempts) {
        let message = format!("{attempts} is outside 1..={MAX_CHALLENGE_ATTEMPTS}");
        bad(
            c,
            g.challenge_attempts.span(),
            "challenge_attempts",
            message,
        );
    }
    let display = *g.display_seconds.get_ref();
    if !(1..=MAX_DISPLAY_SECONDS).contains(&display) {
        let message = format!("{display} is outside 1..={MAX_DISPLAY_SECONDS} seconds");
        bad(c, g.display_seconds.span(), "display_seconds", message);
    }
    let threshold = *g.wrong_code_lock_threshold.get_ref();
    if threshold < attempts {
        // Below one challenge's attempts, a single mistyping citizen locks the officer.
        let message = format!("{threshold} is below challenge_attempts ({attempts})");
        bad(
            c,
            g.wrong_code_lock_threshold.span(),
            "wrong_code_lock_threshold",
            message,
        );
    }
    let delay = *g.operational_history_delay_hours.get_ref();
    if delay > MAX_HISTORY_DELAY_HOURS {
        let message = format!("{delay} is above {MAX_HISTORY_DELAY_HOURS} hours");
        bad(
            c,
            g.operational_history_delay_hours.span(),
            "operational_history_delay_hours",
            message,
        );
    }
    let l = &g.login;
    let (after, lock) = (*l.throttle_after.get_ref(), *l.lock_after.get_ref());
    if after == 0 {
        bad(
            c,
            l.throttle_after.span(),
            "login.throttle_after",
            "must be at least 1".into(),
        );
    }
    if lock < after {
        let message = format!("{lock} is below throttle_after ({after})");
        bad(c, l.lock_after.span(), "login.lock_after", message);
    }
    let throttle_for = *l.throttle_seconds.get_ref();
    if !(1..=3600).contains(&throttle_for) {
        let message = format!("{throttle_for} is outside 1..=3600 seconds");
        bad(
            c,
            l.throttle_seconds.span(),
            "login.throttle_seconds",
            message,
        );
    }
    let cap = g
        .unlock_allowance_cap
        .as_ref()
        .map_or(DEFAULT_UNLOCK_ALLOWANCE_CAP, |c| *c.get_ref());
    if let Some(span) = g.unlock_allowance_cap.as_ref().map(|c| c.span()) {
        if cap > MAX_DAILY_LIMIT {
            let message = format!("{cap} is above the largest daily limit ({MAX_DAILY_LIMIT})");
            bad(c, span, "unlock_allowance_cap", message);
        }
    }
    let disputes_per_day = g
        .disputes_per_day
        .as_ref()
        .map_or(DEFAULT_DISPUTES_PER_DAY, |c| *c.get_ref());
    if let Some(span) = g.disputes_per_day.as_ref().map(|c| c.span()) {
        if disputes_per_day == 0 || disputes_per_day > MAX_DISPUTES_PER_DAY {
            let message = format!("{disputes_per_day} is not between 1 and {MAX_DISPUTES_PER_DAY}");
            bad(c, span, "disputes_per_day", message);
        }
    }
    let retention = check_retention(g, |span, key, message| bad(c, span, key, message));
    ok.then(|| Global {
        retention,
        disputes_per_day,
        unlock_allowance_cap: cap,
        time_zone,
        challenge_lifetime: Duration::from_secs(lifetime),
        challenge_attempts: attempts,
        display: Duration::from_secs(display),
        wrong_code_lock_threshold: threshold,
        login: LoginThrottle {
            throttle_after: after,
            throttle_for: Duration::from_secs(throttle_for),
            lock_after: lock,
        },
        operational_history_delay: Duration::from_secs(delay * 3600),
    })
}

/// `[global.retention]`: every key optional, each with its default; a
/// value outside its range is reported and the default stands in.
fn check_retention(g: &RawGlobal, mut bad: impl FnMut(Range<usize>, &str, String)) -> Retention {
    let mut r = Retention::default();
    let Some(raw) = &g.retention else {
        return r;
    };
    let mut days = |v: &Option<Spanned<u64>>, key: &str, range: std::ops::RangeInclusive<u64>| {
        let d = v.as_ref()?;
        let n = *d.get_ref();
        if range.contains(&n) {
            Some(Duration::from_secs(n * 86_400))
        } else {
            let message = format!("{n} is outside {}..={} days", range.start(), range.end());
            bad(d.span(), &format!("retention.{key}"), message);
            None
        }
    };
    // At least a day, so no challenge is deleted while it could still be
    // answered, disputed on the spot, or counted in today's code limits.
    if let Some(d) = days(&raw.challenge_days, "challenge_days", 1..=3650) {
        r.challenges = d;
    }
    if let Some(d) = days(&raw.session_days, "session_days", 0..=365) {
        r.sessions = d;
    }
    if let Some(s) = &raw.seal_grace_seconds {
        let n = *s.get_ref();
        // The grace must stay well inside the day a challenge is kept.
        if n <= 3600 {
            r.seal_grace = Duration::from_secs(n);
        } else {
            bad(
                s.span(),
                "retention.seal_grace_seconds",
                format!("{n} is outside 0..=3600 seconds"),
            );
        }
    }
    if let Some(d) = &raw.counter_days {
        let n = *d.get_ref();
        // Today's counter is never a candidate: at least one day is kept.
        if (1..=3650).contains(&n) {
            r.counter_days = n;
        } else {
            bad(
                d.span(),
                "retention.counter_days",
                format!("{n} is outside 1..=3650 days"),
            );
        }
    }
    r
}

fn check_purpose(c: &mut Checker<'_>, file: usize, name: &str, p: &RawPurpose) -> Purpose {
    let key = |k: &str| format!("purposes.{name}.{k}");
    if p.description.get_ref().trim().is_empty() {
        c.report(
            file,
            Some(p.description.span()),
            key("description"),
            "must not be empty".into(),
        );
    }
    if p.fields.is_empty() {
        c.report(
            file,
            c.header_span(file, &format!("purposes.{name}")),
            key("fields"),
            "releases no document".into(),
        );
    }
    let mut fields = BTreeMap::new();
    for (doc, names) in &p.fields {
        let Some(kind) = DocumentType::parse(doc.get_ref()) else {
            let message = format!("unknown document \"{}\"", doc.get_ref());
            c.report(file, Some(doc.span()), key("fields"), message);
            continue;
        };
        let doc_key = key(&format!("fields.{kind}"));
        if names.is_empty() {
            c.report(
                file,
                Some(doc.span()),
                doc_key.clone(),
                "releases no field".into(),
            );
        }
        let mut set = BTreeSet::new();
        for f in names {
            if !kind.fields().contains(&f.get_ref().as_str()) {
                let message = format!("{kind} has no field \"{}\"", f.get_ref());
                c.report(file, Some(f.span()), doc_key.clone(), message);
            } else if !set.insert(f.get_ref().clone()) {
                let message = format!("field \"{}\" is listed twice", f.get_ref());
                c.report(file, Some(f.span()), doc_key.clone(), message);
            }
        }
        fields.insert(kind, set);
    }
    Purpose {
        description: p.description.get_ref().clone(),
        case_reference_required: p.case_reference_required,
        fields,
    }
}

fn check_role(
    c: &mut Checker<'_>,
    file: usize,
    name: &str,
    r: &RawRole,
    purposes: &BTreeMap<String, Purpose>,
) -> Role {
    let at = RoleAt { file, name };
    let documents = role_documents(c, at, r);
    let role_purposes = role_purposes(c, at, r, purposes, &documents);
    let limit = role_limit(c, at, r);
    let consent = role_consent(c, at, r);
    let auth = role_auth(c, at, r);
    let (shift, idle) = role_times(c, at, r);
    Role {
        daily_limit: limit,
        consent,
        documents,
        purposes: role_purposes,
        case_reference_required: r.case_reference_required,
        auth,
        shift,
        idle,
        administers: r.administers,
        plate_lookup: r.plate_lookup,
        document_number_lookup: r
            .document_number_lookup
            .as_ref()
            .is_some_and(|d| *d.get_ref()),
        manages: r.manages.iter().map(|m| m.get_ref().clone()).collect(),
        grants_beyond_own: r
            .grants_beyond_own
            .iter()
            .map(|m| m.get_ref().clone())
            .collect(),
        bundles: BTreeSet::new(),
        break_glass: r.break_glass,
        break_glass_countersign: r
            .break_glass_countersign
            .iter()
            .map(|m| m.get_ref().clone())
            .collect(),
        working_hours: watch::check_working_hours(c, file, name, &r.working_hours),
    }
}

/// Where a role's problems are reported: its file and its table's name.
#[derive(Clone, Copy)]
struct RoleAt<'a> {
    file: usize,
    name: &'a str,
}

impl RoleAt<'_> {
    fn key(&self, k: &str) -> String {
        format!("roles.{}.{k}", self.name)
    }

    fn header(&self, c: &Checker<'_>) -> Option<std::ops::Range<usize>> {
        c.header_span(self.file, &format!("roles.{}", self.name))
    }
}

/// The documents a role may check, each known and listed once.
fn role_documents(c: &mut Checker<'_>, at: RoleAt<'_>, r: &RawRole) -> BTreeSet<DocumentType> {
    let mut documents = BTreeSet::new();
    for d in &r.documents {
        match DocumentType::parse(d.get_ref()) {
            None => {
                let message = format!("unknown document \"{}\"", d.get_ref());
                c.report(at.file, Some(d.span()), at.key("documents"), message);
            }
            Some(kind) if !documents.insert(kind) => {
                let message = format!("document \"{kind}\" is listed twice");
                c.report(at.file, Some(d.span()), at.key("documents"), message);
            }
            Some(_) => {}
        }
    }
    documents
}

/// The purposes a role may check for, each known, listed once, and
/// releasing at least one of the role's documents.
fn role_purposes(
    c: &mut Checker<'_>,
    at: RoleAt<'_>,
    r: &RawRole,
    purposes: &BTreeMap<String, Purpose>,
    documents: &BTreeSet<DocumentType>,
) -> BTreeSet<String> {
    let mut role_purposes = BTreeSet::new();
    for p in &r.purposes {
        let pname = p.get_ref();
        match purposes.get(pname) {
            None => {
                let message = format!("unknown purpose \"{pname}\"");
                c.report(at.file, Some(p.span()), at.key("purposes"), message);
            }
            Some(_) if role_purposes.contains(pname) => {
                let message = format!("purpose \"{pname}\" is listed twice");
                c.report(at.file, Some(p.span()), at.key("purposes"), message);
            }
            Some(purpose) => {
                // A purpose that covers none of the role's documents can never
                // be used by it: almost certainly a mistake in one list or the other.
                if !documents.is_empty() && !purpose.fields.keys().any(|d| documents.contains(d)) {
                    let message =
                        format!("purpose \"{pname}\" releases none of this role's documents");
                    c.report(at.file, Some(p.span()), at.key("purposes"), message);
                }
            }
        }
        role_purposes.insert(pname.clone());
    }
    if !r.documents.is_empty() && r.purposes.is_empty() {
        let header = at.header(c);
        let message = "role has documents but no purpose".into();
        c.report(at.file, header, at.key("purposes"), message);
    }
    if r.documents.is_empty() && !r.purposes.is_empty() {
        let header = at.header(c);
        let message = "role has purposes but no document".into();
        c.report(at.file, header, at.key("documents"), message);
    }
    role_purposes
}

/// The daily limit: within bounds for a role that checks, zero for one that does not.
fn role_limit(c: &mut Checker<'_>, at: RoleAt<'_>, r: &RawRole) -> u32 {
    let checks = !r.documents.is_empty() || !r.purposes.is_empty();
    let limit = *r.daily_limit.get_ref();
    let span = Some(r.daily_limit.span());
    if checks && !(1..=MAX_DAILY_LIMIT).contains(&limit) {
        let message =
            format!("{limit} is outside 1..={MAX_DAILY_LIMIT} for a role that checks documents");
        c.report(at.file, span.clone(), at.key("daily_limit"), message);
    }
    if !checks && limit != 0 {
        let message = format!("{limit} for a role with no documents; use 0");
        c.report(at.file, span, at.key("daily_limit"), message);
    }
    limit
}

/// The consent mode, and what a consent-free role must then also have.
fn role_consent(c: &mut Checker<'_>, at: RoleAt<'_>, r: &RawRole) -> ConsentMode {
    let consent = *r.consent.get_ref();
    if consent == ConsentMode::None && !r.case_reference_required {
        // A check the citizen did not consent to must be traceable to a case.
        c.report(
            at.file,
            Some(r.consent.span()),
            at.key("case_reference_required"),
            "consent = \"none\" requires case_reference_required = true".into(),
        );
    }
    if let Some(d) = r.document_number_lookup.as_ref().filter(|d| *d.get_ref()) {
        if consent != ConsentMode::None {
            // A number names a document before any citizen is known to ask
            // for a code, so only consent-free checks may start from one.
            c.report(
                at.file,
                Some(d.span()),
                at.key("document_number_lookup"),
                "document_number_lookup requires consent = \"none\"".into(),
            );
        }
    }
    consent
}

/// The ways to log in: at least one, each listed once.
fn role_auth(c: &mut Checker<'_>, at: RoleAt<'_>, r: &RawRole) -> BTreeSet<AuthMethod> {
    let mut auth = BTreeSet::new();
    for a in &r.auth {
        if !auth.insert(*a.get_ref()) {
            let message = format!("auth method \"{}\" is listed twice", a.get_ref().as_str());
            c.report(at.file, Some(a.span()), at.key("auth"), message);
        }
    }
    if auth.is_empty() {
        let header = at.header(c);
        c.report(at.file, header, at.key("auth"), "no way to log in".into());
    }
    auth
}

/// The shift and the idle time, the latter within the former.
fn role_times(c: &mut Checker<'_>, at: RoleAt<'_>, r: &RawRole) -> (Duration, Duration) {
    let shift = *r.shift_hours.get_ref();
    if !(1..=MAX_SHIFT_HOURS).contains(&shift) {
        let message = format!("{shift} is outside 1..={MAX_SHIFT_HOURS} hours");
        let span = Some(r.shift_hours.span());
        c.report(at.file, span, at.key("shift_hours"), message);
    }
    let idle = *r.idle_minutes.get_ref();
    if idle == 0 || idle > shift.saturating_mul(60) {
        let message = format!("{idle} is outside 1 minute ..= shift_hours");
        let span = Some(r.idle_minutes.span());
        c.report(at.file, span, at.key("idle_minutes"), message);
    }
    (
        Duration::from_secs(shift * 3600),
        Duration::from_secs(idle * 60),
    )
}

/// A table that at most one file may define: the first, the others reported.
fn once<'a, T>(
    c: &mut Checker<'_>,
    header: &str,
    defined: &'a [(usize, T)],
) -> Option<(usize, &'a T)> {
    let (first, value) = defined.first()?;
    let first_name = c.name(*first).to_owned();
    for (file, _) in &defined[1..] {
        let span = c.header_span(*file, header);
        let message = format!(
            "[{header}] is defined in both {first_name} and {}; at most one file may define it",
            c.name(*file)
        );
        c.report(*file, span, header.into(), message);
    }
    Some((*first, value))
}

/// A break-glass role must check documents (there is nothing else to
/// override); its countersigning roles must exist and administer.
fn check_break_glass_roles(
    c: &mut Checker<'_>,
    roles: &BTreeMap<String, (usize, Spanned<String>, RawRole)>,
    built: &BTreeMap<String, Role>,
) {
    for (name, (file, _, raw)) in roles {
        let key = format!("roles.{name}.break_glass_countersign");
        if raw.break_glass && raw.documents.is_empty() {
            let span = c.header_span(*file, &format!("roles.{name}"));
            c.report(
                *file,
                span,
                format!("roles.{name}.break_glass"),
                "a role that checks no document has nothing to override".into(),
            );
        }
        if !raw.break_glass && !raw.break_glass_countersign.is_empty() {
            let span = raw.break_glass_countersign.first().map(|m| m.span());
            c.report(
                *file,
                span,
                key.clone(),
                "set without break_glass = true".into(),
            );
        }
        for m in &raw.break_glass_countersign {
            match built.get(m.get_ref()) {
                Some(r) if r.administers => {}
                Some(_) => {
                    let message = format!("role \"{}\" does not administer", m.get_ref());
                    c.report(*file, Some(m.span()), key.clone(), message);
                }
                None => {
                    let message = format!("unknown role \"{}\"", m.get_ref());
                    c.report(*file, Some(m.span()), key.clone(), message);
                }
            }
        }
    }
}

/// Separation of duties: a role manages only roles that exist, only if it
/// administers, and a managed role that can do more than its manager must
/// be named in `grants_beyond_own` as well.
fn check_management(
    c: &mut Checker<'_>,
    roles: &BTreeMap<String, (usize, Spanned<String>, RawRole)>,
    built: &BTreeMap<String, Role>,
) {
    for (name, (file, _, raw)) in roles {
        let key = |k: &str| format!("roles.{name}.{k}");
        let Some(role) = built.get(name) else {
            continue;
        };
        if !raw.manages.is_empty() && !role.administers {
            let span = raw.manages.first().map(|m| m.span());
            c.report(
                *file,
                span,
                key("manages"),
                "only a role that administers may manage roles".into(),
            );
        }
        for m in &raw.manages {
            let managed = m.get_ref();
            let Some(target) = built.get(managed) else {
                c.report(
                    *file,
                    Some(m.span()),
                    key("manages"),
                    format!("unknown role \"{managed}\""),
                );
                continue;
            };
            let beyond = target.powers_beyond(role);
            if !beyond.is_empty() && !role.grants_beyond_own.contains(managed) {
                let message = format!(
                    "role \"{name}\" may create \"{managed}\", which can {} (more than \"{name}\" can); \
                     if that is intended, list \"{managed}\" in grants_beyond_own",
                    beyond.join("; ")
                );
                c.report(*file, Some(m.span()), key("manages"), message);
            }
        }
        for g in &raw.grants_beyond_own {
            if !role.manages.contains(g.get_ref()) {
                let message = format!("\"{}\" is not in manages", g.get_ref());
                c.report(*file, Some(g.span()), key("grants_beyond_own"), message);
            }
        }
    }
}

/// A role's bundles must exist, and each of their parts must be a check the
/// role may make on its own: a bundle never widens a role.
fn check_role_bundles(
    c: &mut Checker<'_>,
    file: usize,
    name: &str,
    r: &RawRole,
    role: &Role,
    bundles: &BTreeMap<String, Bundle>,
) -> BTreeSet<String> {
    let key = format!("roles.{name}.bundles");
    let mut out = BTreeSet::new();
    for b in &r.bundles {
        let bname = b.get_ref();
        let Some(bundle) = bundles.get(bname) else {
            let message = format!("unknown bundle \"{bname}\"");
            c.report(file, Some(b.span()), key.clone(), message);
            continue;
        };
        for part in &bundle.parts {
            if !role.documents.contains(&part.document) || !role.purposes.contains(&part.purpose) {
                let message = format!(
                    "bundle \"{bname}\" asks for {} for {}, which this role may not",
                    part.document, part.purpose
                );
                c.report(file, Some(b.span()), key.clone(), message);
            }
            if part.subject == PartSubject::Vehicle
                && !(role.plate_lookup && role.consent == ConsentMode::None)
            {
                let message =
                    format!("bundle \"{bname}\" names a vehicle by plate, which this role may not");
                c.report(file, Some(b.span()), key.clone(), message);
            }
        }
        if !out.insert(bname.clone()) {
            let message = format!("bundle \"{bname}\" is listed twice");
            c.report(file, Some(b.span()), key.clone(), message);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{PolicyErrors, PolicySet};

    pub(crate) const GLOBAL: &str = "[global]\ntime_zone = \"Europe/Warsaw\"\nchallenge_lifetime_seconds = 300\nchallenge_attempts = 3\ndisplay_seconds = 60\nwrong_code_lock_threshold = 10\noperational_history_delay_hours = 24\n[global.login]\nthrottle_after = 5\nthrottle_seconds = 60\nlock_after = 10\n";

    const AGE: &str = "[purposes.age_check]\ndescription = \"age\"\nfields = { id_card = [\"photo\", \"age_over_18\"] }\n";

    fn load(files: &[(&str, &str)]) -> Result<PolicySet, PolicyErrors> {
        let sources: Vec<(String, String)> = files
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        PolicySet::from_sources(&sources)
    }

    fn problems(files: &[(&str, &str)]) -> Vec<String> {
        load(files)
            .unwrap_err()
            .0
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    fn role(extra: &str) -> String {
        format!("[roles.clerk]\ndaily_limit = 10\nconsent = \"sms\"\ndocuments = [\"id_card\"]\npurposes = [\"age_check\"]\nauth = [\"password_totp\"]\nshift_hours = 8\nidle_minutes = 15\n{extra}")
    }

    #[test]
    fn a_minimal_set_loads() {
        let text = format!("{GLOBAL}{}{AGE}", role(""));
        let set = load(&[("a.toml", &text)]).unwrap();
        assert_eq!(set.global.time_zone, chrono_tz::Europe::Warsaw);
        assert_eq!(set.global.challenge_lifetime.as_secs(), 300);
        assert_eq!(set.roles["clerk"].idle.as_secs(), 15 * 60);
    }

    #[test]
    fn unknown_document_names_file_line_and_key() {
        let text = format!(
            "{GLOBAL}{}{AGE}",
            role("").replace("[\"id_card\"]", "[\"id_card\", \"passport\"]")
        );
        let line = text.lines().position(|l| l.contains("passport")).unwrap() + 1;
        assert_eq!(
            problems(&[("policies/extra.toml", &text)]),
            vec![format!(
                "policies/extra.toml:{line}: roles.clerk.documents: unknown document \"passport\""
            )]
        );
    }

    #[test]
    fn unknown_key_is_reported_with_file_line_and_key() {
        let text = format!("{GLOBAL}{}{AGE}", role("dialy_limit = 5\n"));
        let line = text
            .lines()
            .position(|l| l.starts_with("dialy_limit"))
            .unwrap()
            + 1;
        let got = load(&[("a.toml", &text)]).unwrap_err().0;
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].file, "a.toml");
        assert_eq!(got[0].line, Some(line));
        assert_eq!(got[0].key, "roles.clerk.dialy_limit");
        assert!(
            got[0].message.contains("unknown field"),
            "{}",
            got[0].message
        );
    }

    #[test]
    fn two_bad_things_in_one_file_are_both_reported() {
        let text = format!("{GLOBAL}{}{AGE}", role("colour = \"blue\"\n"))
            .replace(
                "challenge_lifetime_seconds = 300",
                "challenge_lifetime_seconds = 0",
            )
            .replace("[\"age_check\"]", "[\"age_check\", \"fishing\"]");
        let got = problems(&[("a.toml", &text)]);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(got
            .iter()
            .any(|p| p.contains("roles.clerk.colour: unknown field")));
        assert!(got
            .iter()
            .any(|p| p.contains("global.challenge_lifetime_seconds: 0 is outside")));
        assert!(got
            .iter()
            .any(|p| p.contains("roles.clerk.purposes: unknown purpose \"fishing\"")));
    }

    #[test]
    fn purpose_field_outside_the_document_model_is_refused() {
        let text = format!(
            "{GLOBAL}{}{}",
            role(""),
            AGE.replace("\"photo\"", "\"photo\", \"pesel\"")
        );
        let got = problems(&[("a.toml", &text)]);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(
            got[0].contains("purposes.age_check.fields.id_card: id_card has no field \"pesel\""),
            "{}",
            got[0]
        );
    }

    #[test]
    fn purpose_naming_an_unknown_document_is_refused() {
        let text = format!(
            "{GLOBAL}{}{}",
            role(""),
            AGE.replace("fields = { ", "fields = { passport = [\"photo\"], ")
        );
        let got = problems(&[("a.toml", &text)]);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(
            got[0].contains("purposes.age_check.fields: unknown document \"passport\""),
            "{}",
            got[0]
        );
    }

    #[test]
    fn challenge_lifetime_above_ten_minutes_is_refused() {
        let ok = format!("{GLOBAL}{}{AGE}", role("")).replace("= 300", "= 600");
        assert!(load(&[("a.toml", &ok)]).is_ok());
        let bad = ok.replace("= 600", "= 601");
        let got = problems(&[("a.toml", &bad)]);
        assert_eq!(
            got,
            vec![
                "a.toml:3: global.challenge_lifetime_seconds: 601 is outside 1..=600 seconds"
                    .to_string()
            ]
        );
    }

    #[test]
    fn bad_time_zone_and_zero_attempts_are_refused() {
        let text = format!("{GLOBAL}{}{AGE}", role(""))
            .replace("Europe/Warsaw", "Europe/Atlantis")
            .replace("challenge_attempts = 3", "challenge_attempts = 0");
        let got = problems(&[("a.toml", &text)]);
        assert!(
            got.iter()
                .any(|p| p.contains("global.time_zone: unknown time zone")),
            "{got:#?}"
        );
        assert!(
            got.iter()
                .any(|p| p.contains("global.challenge_attempts: 0 is outside")),
            "{got:#?}"
        );
    }

    #[test]
    fn retention_has_defaults_and_its_ranges_are_checked() {
        use crate::model::Retention;
        use std::time::Duration;
        let text = format!("{GLOBAL}{}{AGE}", role(""));
        let set = load(&[("a.toml", &text)]).unwrap();
        assert_eq!(set.global.retention, Retention::default());
        let with = text.replace(
            "[global.login]",
            "[global.retention]\nseal_grace_seconds = 30\nchallenge_days = 2\nsession_days = 0\ncounter_days = 400\n[global.login]",
        );
        let r = load(&[("a.toml", &with)]).unwrap().global.retention;
        assert_eq!(r.seal_grace, Duration::from_secs(30));
        assert_eq!(r.challenges, Duration::from_secs(2 * 86_400));
        assert_eq!(r.sessions, Duration::ZERO);
        assert_eq!(r.counter_days, 400);
        let bad = text.replace(
            "[global.login]",
            "[global.retention]\nseal_grace_seconds = 3601\nchallenge_days = 0\ncounter_days = 0\n[global.login]",
        );
        let got = problems(&[("a.toml", &bad)]);
        assert_eq!(got.len(), 3, "{got:#?}");
        for key in [
            "global.retention.seal_grace_seconds: 3601 is outside",
            "global.retention.challenge_days: 0 is outside",
            "global.retention.counter_days: 0 is outside",
        ] {
            assert!(got.iter().any(|p| p.contains(key)), "{key}: {got:#?}");
        }
        let unknown = text.replace(
            "[global.login]",
            "[global.retention]\nforever = true\n[global.login]",
        );
        assert!(load(&[("a.toml", &unknown)]).is_err());
    }

    #[test]
    fn consent_none_without_case_reference_is_refused() {
        let text = format!("{GLOBAL}{}{AGE}", role("").replace("\"sms\"", "\"none\""));
        let got = problems(&[("a.toml", &text)]);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(
            got[0].contains("roles.clerk.case_reference_required: consent = \"none\" requires"),
            "{}",
            got[0]
        );
        let fixed = format!(
            "{GLOBAL}{}{AGE}",
            role("case_reference_required = true\n").replace("\"sms\"", "\"none\"")
        );
        assert!(load(&[("a.toml", &fixed)]).is_ok());
    }

    #[test]
    fn insane_limits_are_refused() {
        let text = format!(
            "{GLOBAL}{}{AGE}",
            role("").replace("daily_limit = 10", "daily_limit = 0")
        );
        assert!(problems(&[("a.toml", &text)])[0].contains("roles.clerk.daily_limit: 0 is outside"));
        let admin = "[roles.admin]\ndaily_limit = 5\nconsent = \"sms\"\nauth = [\"password_totp\"]\nshift_hours = 8\nidle_minutes = 15\nadministers = true\n";
        let text = format!("{GLOBAL}{}{AGE}{admin}", role(""));
        assert!(problems(&[("a.toml", &text)])[0]
            .contains("roles.admin.daily_limit: 5 for a role with no documents"));
    }

    #[test]
    fn files_merge_roles_and_purposes() {
        let a = format!("{GLOBAL}{}", role(""));
        let set = load(&[("a.toml", &a), ("b.toml", AGE)]).unwrap();
        assert_eq!(set.roles.len(), 1);
        assert!(set.purposes.contains_key("age_check"));
    }

    #[test]
    fn a_role_defined_in_two_files_is_refused_naming_both() {
        let a = format!("{GLOBAL}{}{AGE}", role(""));
        let got = problems(&[("a.toml", &a), ("b.toml", &role(""))]);
        assert_eq!(got, vec!["b.toml:1: roles.clerk: defined in both a.toml and b.toml; a name may be defined once".to_string()]);
    }

    #[test]
    fn global_must_be_in_exactly_one_file() {
        let a = format!("{GLOBAL}{}{AGE}", role(""));
        let got = problems(&[("a.toml", &a), ("b.toml", GLOBAL)]);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(
            got[0].starts_with("b.toml:1: global: [global] is defined in both a.toml and b.toml"),
            "{}",
            got[0]
        );
        let got = problems(&[("a.toml", &format!("{}{AGE}", role("")))]);
        assert_eq!(
            got,
            vec!["global: no file defines [global]; exactly one must".to_string()]
        );
    }

    #[test]
    fn problems_of_several_files_are_all_reported() {
        let a = format!(
            "{GLOBAL}{}{AGE}",
            role("").replace("shift_hours = 8", "shift_hours = 30")
        );
        let b = "[purposes.x]\ndescription = \"\"\nfields = {}\n";
        let got = problems(&[("a.toml", &a), ("b.toml", b)]);
        assert!(
            got.iter()
                .any(|p| p.starts_with("a.toml:") && p.contains("shift_hours")),
            "{got:#?}"
        );
        assert!(
            got.iter()
                .any(|p| p.starts_with("b.toml:2: purposes.x.description")),
            "{got:#?}"
        );
        assert!(
            got.iter()
                .any(|p| p.starts_with("b.toml:1: purposes.x.fields")),
            "{got:#?}"
        );
    }

    fn admin(extra: &str) -> String {
        format!("[roles.admin]\ndaily_limit = 0\nconsent = \"sms\"\nauth = [\"password_totp\"]\nshift_hours = 8\nidle_minutes = 15\nadministers = true\n{extra}")
    }

    #[test]
    fn a_role_that_creates_a_stronger_role_must_say_so() {
        let quiet = format!(
            "{GLOBAL}{}{AGE}{}",
            role(""),
            admin("manages = [\"clerk\"]\n")
        );
        let p = problems(&[("a.toml", &quiet)]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("roles.admin.manages"), "{}", p[0]);
        assert!(p[0].contains("ask for id_card"), "{}", p[0]);
        assert!(p[0].contains("grants_beyond_own"), "{}", p[0]);

        let explicit = format!(
            "{GLOBAL}{}{AGE}{}",
            role(""),
            admin("manages = [\"clerk\"]\ngrants_beyond_own = [\"clerk\"]\n")
        );
        let set = load(&[("a.toml", &explicit)]).unwrap();
        assert!(set.role("admin").unwrap().manages.contains("clerk"));
    }

    #[test]
    fn managing_needs_an_administering_role_and_known_roles() {
        let text = format!(
            "{GLOBAL}{}{AGE}{}",
            role("manages = [\"clerk\"]\n"),
            admin("manages = [\"nobody\"]\ngrants_beyond_own = [\"clerk\"]\n")
        );
        let p = problems(&[("a.toml", &text)]).join("\n");
        assert!(
            p.contains("roles.clerk.manages: only a role that administers"),
            "{p}"
        );
        assert!(
            p.contains("roles.admin.manages: unknown role \"nobody\""),
            "{p}"
        );
        assert!(
            p.contains("roles.admin.grants_beyond_own: \"clerk\" is not in manages"),
            "{p}"
        );
    }

    #[test]
    fn the_unlock_cap_defaults_and_is_bounded() {
        let set = load(&[("a.toml", &format!("{GLOBAL}{}{AGE}", role("")))]).unwrap();
        assert_eq!(set.global.unlock_allowance_cap, 50);
        let high = GLOBAL.replace(
            "[global.login]",
            "unlock_allowance_cap = 4000000000\n[global.login]",
        );
        assert!(!problems(&[("a.toml", &format!("{high}{}{AGE}", role("")))]).is_empty());
        let ok = GLOBAL.replace(
            "[global.login]",
            "unlock_allowance_cap = 20\n[global.login]",
        );
        let set = load(&[("a.toml", &format!("{ok}{}{AGE}", role("")))]).unwrap();
        assert_eq!(set.global.unlock_allowance_cap, 20);
    }
}
