//! The example server's users: a small JSON file of names, argon2id password hashes and roles,
//! made by `server add-user FILE NAME [--role ROLE]…` (the password read from standard input).

use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use serde::{Deserialize, Serialize};
use tokenring_examples::hash_password;

/// The role that may mint tokens (`POST /tokens`).
pub const MINTER: &str = "minter";

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Users {
    users: Vec<User>,
    /// A hash of a random password, made at load with the users' parameters: checked for an
    /// unknown name, so that its answer costs what a wrong password costs.
    #[serde(skip)]
    decoy: String,
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    password_hash: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Users {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read users file {}: {e}", path.display()))?;
        let mut users: Self = serde_json::from_str(&text)
            .map_err(|e| format!("users file {}: {e}", path.display()))?;
        for user in &users.users {
            PasswordHash::new(&user.password_hash)
                .map_err(|e| format!("users file {}: user {:?}: {e}", path.display(), user.name))?;
        }
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| e.to_string())?;
        users.decoy = hash_password(&format!("{random:?}"))?;
        Ok(users)
    }

    /// The user `name` if `password` is theirs. An unknown name costs a hash check too, so
    /// timing does not tell which names exist.
    pub fn check(&self, name: &str, password: &str) -> Option<&User> {
        let argon2 = argon2::Argon2::default();
        let found = self.users.iter().find(|u| u.name == name);
        let hash = found.map_or(self.decoy.as_str(), |u| u.password_hash.as_str());
        let parsed = PasswordHash::new(hash).ok()?;
        let matches = argon2.verify_password(password.as_bytes(), &parsed).is_ok();
        found.filter(|_| matches)
    }

    /// Adds or replaces user `name` with `password` and `roles`, writing the file with mode
    /// 0600 (through a temporary file and a rename).
    pub fn add(path: &Path, name: &str, password: &str, roles: Vec<String>) -> Result<(), String> {
        if name.is_empty() || password.is_empty() {
            return Err("the name and the password must not be empty".to_owned());
        }
        let mut users = if path.exists() {
            Self::load(path)?
        } else {
            Self::default()
        };
        let password_hash = hash_password(password)?;
        users.users.retain(|u| u.name != name);
        users.users.push(User {
            name: name.to_owned(),
            password_hash,
            roles,
        });
        let text = serde_json::to_string_pretty(&users).map_err(|e| e.to_string())?;
        let temporary = path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temporary).and_then(|mut file| {
            std::io::Write::write_all(&mut file, text.as_bytes())?;
            file.sync_all()
        });
        written
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}
