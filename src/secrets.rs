//! API keys: where they come from, where they are kept, and a type that cannot leak them by accident
//! (its `Debug` is redacted and it has no `Display`).
//!
//! Lookup order: the environment variables, else the config file (Clockify's key only; warned about when
//! others can read it, as is a secrets file), else the secret store: the OS keychain (service `claude-tracker`), or, when
//! `$CLAUDE_TRACKER_SECRETS_FILE` names a file, that file (mode 0600) for machines without a keychain
//! service — and for tests, which must never touch the real keychain.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The keychain service name every secret is filed under.
pub(crate) const SERVICE: &str = "claude-tracker";

/// A secret value. Only [`ApiKey::expose`] gives the text, for the one header that needs it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    /// Wraps a key, trimming the whitespace a paste often brings.
    pub(crate) fn new(text: &str) -> Option<ApiKey> {
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| ApiKey(trimmed.to_string()))
    }

    /// The key's text, for an authentication header; never print it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// One kind of secret: its environment variable and its name in the store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SecretKind {
    /// Environment variables that may hold it, in order of preference.
    pub(crate) envs: &'static [&'static str],
    pub(crate) store_name: &'static str,
    /// What the user runs to store it.
    pub(crate) setup_command: &'static str,
    /// The service's name, for messages.
    pub(crate) service: &'static str,
}

/// Clockify's API key (`$CLOCKIFY_TOKEN` too, the name seed 003 gives it, as Toggl's has two).
pub(crate) const CLOCKIFY: SecretKind = SecretKind {
    envs: &["CLOCKIFY_API_KEY", "CLOCKIFY_TOKEN"],
    store_name: "clockify_api_key",
    setup_command: "claude-tracker setup",
    service: "Clockify",
};

/// Toggl Track's API token.
pub(crate) const TOGGL: SecretKind = SecretKind {
    envs: &["TOGGL_API_TOKEN", "TOGGL_TOKEN"],
    store_name: "toggl_api_token",
    setup_command: "claude-tracker setup --toggl",
    service: "Toggl Track",
};

/// Every kind of secret.
const KINDS: [SecretKind; 2] = [CLOCKIFY, TOGGL];

/// Where secrets are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretStore {
    Keychain,
    File(PathBuf),
}

impl SecretStore {
    /// The keychain, unless `$CLAUDE_TRACKER_SECRETS_FILE` names a file.
    pub(crate) fn from_env() -> SecretStore {
        match std::env::var_os("CLAUDE_TRACKER_SECRETS_FILE").filter(|v| !v.is_empty()) {
            Some(path) => SecretStore::File(PathBuf::from(path)),
            None => SecretStore::Keychain,
        }
    }

    /// Reads a secret; `None` when it was never stored.
    pub(crate) fn get(&self, name: &str) -> Result<Option<ApiKey>> {
        match self {
            SecretStore::Keychain => {
                let entry = keychain_entry(name)?;
                match entry.get_password() {
                    Ok(value) => Ok(ApiKey::new(&value)),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(error) => Err(anyhow::anyhow!(
                        "cannot read `{name}` from the OS keychain: {error}; {}",
                        without_keychain(name)
                    )),
                }
            }
            SecretStore::File(path) => Ok(read_secrets_file(path)?.get(name).and_then(|v| ApiKey::new(v))),
        }
    }

    /// Stores a secret.
    pub(crate) fn set(&self, name: &str, key: &ApiKey) -> Result<()> {
        match self {
            SecretStore::Keychain => keychain_entry(name)?.set_password(key.expose()).map_err(|error| {
                anyhow::anyhow!(
                    "cannot store `{name}` in the OS keychain: {error}; {}",
                    without_keychain(name)
                )
            }),
            SecretStore::File(path) => {
                let mut secrets = read_secrets_file(path)?;
                secrets.insert(name.to_string(), key.expose().to_string());
                write_private(path, &serde_json::to_string_pretty(&secrets)?)
            }
        }
    }

    /// Where it is, for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            SecretStore::Keychain => format!("the OS keychain (service `{SERVICE}`)"),
            SecretStore::File(path) => format!("the secrets file {}", path.display()),
        }
    }
}

fn keychain_entry(name: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, name).map_err(|error| {
        anyhow::anyhow!("the OS keychain is not available ({error}); {}", without_keychain(name))
    })
}

/// What to do on a machine without a usable keychain (a server, a container): the key's own variables,
/// or a private secrets file that `setup` fills.
fn without_keychain(name: &str) -> String {
    let kind = KINDS.iter().find(|kind| kind.store_name == name);
    let variable = kind
        .map_or_else(|| "the key's environment variable".to_string(), |kind| format!("${}", kind.envs[0]));
    let setup = kind.map_or("claude-tracker setup", |kind| kind.setup_command);
    format!(
        "without a keychain, give the key in {variable}, or set $CLAUDE_TRACKER_SECRETS_FILE to a file path \
         (kept private, mode 0600) and run `{setup}` to store it there"
    )
}

fn read_secrets_file(path: &Path) -> Result<BTreeMap<String, String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("the secrets file {} is not a JSON object of strings", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(anyhow::anyhow!("cannot read the secrets file {}: {e}", path.display())),
    }
}

/// Replaces `path` with `text`, readable by its owner only: written to a private (0600) temporary file in
/// the same folder, flushed to disk, then renamed over the old file. A crash leaves the old file or the new
/// one, never a truncated one; an old file readable by others is replaced by a private one.
fn write_private(path: &Path, text: &str) -> Result<()> {
    crate::files::replace(path, text, None)
}

/// Finds a key: the environment, else the config file's value, else the store. The error says how to
/// provide one.
pub(crate) fn resolve(kind: SecretKind, from_config: Option<&str>, store: &SecretStore) -> Result<ApiKey> {
    if let Some(key) =
        kind.envs.iter().find_map(|name| std::env::var(name).ok().as_deref().and_then(ApiKey::new))
    {
        return Ok(key);
    }
    if let Some(key) = from_config.and_then(ApiKey::new) {
        return Ok(key);
    }
    store.get(kind.store_name)?.ok_or_else(|| {
        anyhow::anyhow!(
            "no API key: set ${} or run `{}` to store one in {}",
            kind.envs[0],
            kind.setup_command,
            store.describe()
        )
    })
}

/// Warnings for the files holding keys that other users can read: the config file (when it holds
/// Clockify's key, the one it can hold) and the secrets file (for the keys it holds). Each names the
/// variables of the keys that file holds, so a Toggl token is never sent to `$CLOCKIFY_API_KEY`.
pub(crate) fn permission_warnings(
    config_path: &Path,
    config_holds_key: bool,
    store: &SecretStore,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if config_holds_key {
        warnings.extend(permission_warning("config file", config_path, &[CLOCKIFY]));
    }
    if let SecretStore::File(path) = store
        && readable_by_others(path).is_some()
    {
        // Read only when others can read it: every run asks, and the usual private file costs a stat.
        let held: Vec<SecretKind> = match read_secrets_file(path) {
            Ok(secrets) => KINDS.into_iter().filter(|kind| secrets.contains_key(kind.store_name)).collect(),
            Err(_) => Vec::new(),
        };
        if !held.is_empty() {
            warnings.extend(permission_warning("secrets file", path, &held));
        }
    }
    warnings
}

/// The file's mode when group or others may read it (never on systems without Unix modes).
fn readable_by_others(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then_some(mode & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// A warning when `path` (a `label` such as "config file"), holding the keys of `kinds`, can be read by
/// other users: what to run, or where the keys go instead (their own variables, or the keychain).
fn permission_warning(label: &str, path: &Path, kinds: &[SecretKind]) -> Option<String> {
    let mode = readable_by_others(path)?;
    let variables: Vec<String> = kinds.iter().map(|kind| format!("${}", kind.envs[0])).collect();
    let (holds, move_them) = if kinds.len() == 1 { ("an API key", "the key") } else { ("API keys", "them") };
    Some(format!(
        "the {label} {} holds {holds} and other users can read it (mode {mode:o}): run `chmod 600 {}`, or move \
         {move_them} to {} / the keychain",
        path.display(),
        path.display(),
        variables.join(" and ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_keychain_the_message_names_the_keys_variable_and_the_secrets_file() {
        assert_eq!(
            without_keychain(TOGGL.store_name),
            "without a keychain, give the key in $TOGGL_API_TOKEN, or set $CLAUDE_TRACKER_SECRETS_FILE to a file \
             path (kept private, mode 0600) and run `claude-tracker setup --toggl` to store it there"
        );
        assert!(without_keychain(CLOCKIFY.store_name).contains("$CLOCKIFY_API_KEY"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("  abc-secret \n").unwrap();
        assert_eq!(key.expose(), "abc-secret");
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        assert!(ApiKey::new("   ").is_none());
    }

    #[test]
    fn file_store_round_trips_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::File(dir.path().join("sub/secrets.json"));
        assert_eq!(store.get("clockify_api_key").unwrap(), None);
        store.set("clockify_api_key", &ApiKey::new("k1").unwrap()).unwrap();
        assert_eq!(store.get("clockify_api_key").unwrap(), ApiKey::new("k1"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("sub/secrets.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn rewriting_the_file_makes_it_private_keeps_the_others_and_leaves_no_temporary() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, "{\"toggl_api_token\": \"t1\"}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = SecretStore::File(path.clone());
        store.set("clockify_api_key", &ApiKey::new("k1").unwrap()).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let stored: BTreeMap<String, String> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            stored,
            BTreeMap::from([
                ("clockify_api_key".to_string(), "k1".to_string()),
                ("toggl_api_token".to_string(), "t1".to_string())
            ])
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("secrets.json")]);
    }

    #[cfg(unix)]
    #[test]
    fn readable_config_gets_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let none = SecretStore::File(dir.path().join("none.json"));
        assert_eq!(
            permission_warnings(&path, true, &none),
            vec![format!(
                "the config file {0} holds an API key and other users can read it (mode 644): run `chmod 600 \
                 {0}`, or move the key to $CLOCKIFY_API_KEY / the keychain",
                path.display()
            )]
        );
        assert!(permission_warnings(&path, false, &none).is_empty(), "no key in it");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(permission_warnings(&path, true, &none).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_secrets_file_is_warned_about_with_the_variables_of_the_keys_it_holds() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, "{\"toggl_api_token\": \"t1\"}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let store = SecretStore::File(path.clone());
        assert_eq!(
            permission_warnings(&config, false, &store),
            vec![format!(
                "the secrets file {0} holds an API key and other users can read it (mode 640): run `chmod 600 \
                 {0}`, or move the key to $TOGGL_API_TOKEN / the keychain",
                path.display()
            )]
        );
        std::fs::write(&path, "{\"toggl_api_token\": \"t1\", \"clockify_api_key\": \"k1\"}").unwrap();
        assert_eq!(
            permission_warnings(&config, false, &store),
            vec![format!(
                "the secrets file {0} holds API keys and other users can read it (mode 640): run `chmod 600 \
                 {0}`, or move them to $CLOCKIFY_API_KEY and $TOGGL_API_TOKEN / the keychain",
                path.display()
            )]
        );
        std::fs::write(&path, "{}").unwrap();
        assert!(permission_warnings(&config, false, &store).is_empty(), "no key in it");
        assert!(permission_warnings(&config, false, &SecretStore::Keychain).is_empty());
    }
}
