//! TLS and credentials from the environment etcdctl reads, so that a shell set up for
//! etcdctl reaches the same cluster with `tokenring` and the example server.

use std::ffi::OsString;
use std::path::Path;

use zeroize::Zeroizing;

use super::EtcdSourceBuilder;
use crate::error::{ConfigProblem, KeyringError};
use crate::secret::Secret;

impl EtcdSourceBuilder {
    /// Applies the etcdctl environment variables that are set:
    ///
    /// - `ETCDCTL_CACERT`: a PEM file of the CA that signed etcd's certificate; connects over
    ///   TLS (`host:port` endpoints become `https://`).
    /// - `ETCDCTL_CERT` and `ETCDCTL_KEY`: PEM files of a client certificate and its key, for
    ///   a cluster that runs with `--client-cert-auth` (both, and with `ETCDCTL_CACERT`).
    /// - `ETCDCTL_USER` (`name:password`, or `name` with `ETCDCTL_PASSWORD`): etcd's
    ///   user/password authentication.
    ///
    /// With none set the configuration is unchanged.
    ///
    /// # Errors
    ///
    /// [`KeyringError::Config`] naming the variable for a file that cannot be read, a
    /// certificate without its key (or either without a CA), or a user without a password.
    pub fn etcdctl_env(self) -> Result<Self, KeyringError> {
        self.with_env(|name| std::env::var_os(name).filter(|value| !value.is_empty()))
    }

    pub(crate) fn with_env(
        mut self,
        var: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, KeyringError> {
        let store = format!("etcd keyring {:?}", self.name());
        let refuse = |problem| KeyringError::Config {
            store: store.clone(),
            problem,
        };
        let read = |name: &'static str| -> Result<Option<Zeroizing<Vec<u8>>>, KeyringError> {
            let Some(path) = var(name) else {
                return Ok(None);
            };
            let path = Path::new(&path);
            std::fs::read(path)
                .map(|bytes| Some(Zeroizing::new(bytes)))
                .map_err(|error| {
                    refuse(ConfigProblem::UnreadableFile {
                        var: name,
                        path: path.to_owned(),
                        error: std::sync::Arc::new(error),
                    })
                })
        };
        let ca = read("ETCDCTL_CACERT")?;
        let cert = read("ETCDCTL_CERT")?;
        let key = read("ETCDCTL_KEY")?;
        let client = match (&cert, &key) {
            (Some(cert), Some(key)) => Some((cert.as_slice(), key.as_slice())),
            (None, None) => None,
            _ => {
                return Err(refuse(ConfigProblem::CertWithoutKey));
            }
        };
        match (&ca, client) {
            (Some(ca), client) => self = self.tls(ca, client),
            (None, Some(_)) => {
                return Err(refuse(ConfigProblem::CertWithoutCa));
            }
            (None, None) => {}
        }
        if let Some(user) = var("ETCDCTL_USER") {
            let user = user
                .into_string()
                .map_err(|_| refuse(ConfigProblem::NotUtf8("ETCDCTL_USER")))?;
            let (name, password) = match user.split_once(':') {
                Some((name, password)) => (name.to_owned(), password.as_bytes().to_vec()),
                None => {
                    let password = var("ETCDCTL_PASSWORD")
                        .ok_or_else(|| refuse(ConfigProblem::UserWithoutPassword))?;
                    (user, password.into_encoded_bytes())
                }
            };
            self = self.user(name, Secret::from_bytes(password));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::source::EtcdSource;

    fn apply(vars: &[(&str, &str)]) -> Result<EtcdSource, String> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        EtcdSource::builder(["127.0.0.1:2379"], "ring")
            .with_env(|name| vars.get(name).cloned())
            .and_then(EtcdSourceBuilder::build)
            .map_err(|e| e.to_string())
    }

    fn described(source: &EtcdSource) -> String {
        format!("{source:?}")
    }

    #[test]
    fn nothing_set_changes_nothing() {
        let source = apply(&[]).unwrap();
        assert!(described(&source).contains("http://127.0.0.1:2379"));
        assert!(described(&source).contains("tls: false"));
    }

    #[test]
    fn a_ca_turns_tls_on() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not checked until a connection").unwrap();
        let source = apply(&[("ETCDCTL_CACERT", ca.to_str().unwrap())]).unwrap();
        assert!(described(&source).contains("https://127.0.0.1:2379"));
        assert!(described(&source).contains("tls: true"));
    }

    #[test]
    fn unreadable_files_and_half_pairs_are_named() {
        let error = apply(&[("ETCDCTL_CACERT", "/nonexistent/ca.pem")]).unwrap_err();
        assert!(
            error.contains("ETCDCTL_CACERT: cannot read /nonexistent/ca.pem"),
            "{error}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.pem");
        std::fs::write(&file, "x").unwrap();
        let file = file.to_str().unwrap();
        let error = apply(&[("ETCDCTL_CERT", file)]).unwrap_err();
        assert!(error.contains("set both or neither"), "{error}");
        let error = apply(&[("ETCDCTL_CERT", file), ("ETCDCTL_KEY", file)]).unwrap_err();
        assert!(
            error.contains("ETCDCTL_CERT needs ETCDCTL_CACERT"),
            "{error}"
        );
    }

    #[test]
    fn users_and_passwords() {
        let source = apply(&[("ETCDCTL_USER", "ops:s3cret:with-colon")]).unwrap();
        let debug = described(&source);
        assert!(debug.contains("\"ops\""), "{debug}");
        assert!(!debug.contains("s3cret"), "{debug}");
        let source = apply(&[("ETCDCTL_USER", "ops"), ("ETCDCTL_PASSWORD", "pw")]).unwrap();
        assert!(described(&source).contains("\"ops\""));
        let error = apply(&[("ETCDCTL_USER", "ops")]).unwrap_err();
        assert!(error.contains("ETCDCTL_PASSWORD"), "{error}");
        assert!(error.starts_with("etcd keyring \"ring\": "), "{error}");
    }
}
