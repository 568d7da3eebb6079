//! `oresund.toml`: what a node is (id, country, assembly) and how it runs. Written by `init`,
//! edited by the operator; unknown keys are an error so a typo is never silently ignored.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::NodeError;

pub const CONFIG_FILE: &str = "oresund.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Short node identifier, also the prefix of accessions (`DK-NGC` → `DK-NGC-F000001`).
    pub node_id: String,
    /// ISO 3166-1 alpha-2 country code (`DK`, `SE`).
    pub country: String,
    /// Reference assembly name (`GRCh38`); queries naming another assembly are refused.
    pub assembly: String,
    pub reference: ReferenceConfig,
    #[serde(default)]
    pub ontology: OntologyConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceConfig {
    /// File name the reference was imported from (for the record).
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OntologyConfig {
    /// HPO release copied into the node at `init`, relative to the node directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpo: Option<String>,
}

impl NodeConfig {
    pub fn load(dir: &Path) -> Result<Self, NodeError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| NodeError::io(&path, source))?;
        let config: NodeConfig =
            toml::from_str(&text).map_err(|e| NodeError::Config { path: path.clone(), message: e.to_string() })?;
        config.validate().map_err(|message| NodeError::Config { path, message })?;
        Ok(config)
    }

    pub fn save(&self, dir: &Path) -> Result<(), NodeError> {
        let path = dir.join(CONFIG_FILE);
        let text = toml::to_string_pretty(self)
            .map_err(|e| NodeError::Config { path: path.clone(), message: e.to_string() })?;
        crate::fsutil::write_atomic(&path, text.as_bytes())
    }

    /// Rules the types cannot express.
    pub fn validate(&self) -> Result<(), String> {
        let id_ok = !self.node_id.is_empty()
            && self.node_id.len() <= 32
            && self.node_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!("node_id {:?} must be 1-32 letters, digits, '-' or '_'", self.node_id));
        }
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!("country {:?} must be an ISO 3166-1 alpha-2 code such as DK or SE", self.country));
        }
        if self.assembly.trim().is_empty() {
            return Err("assembly must name the reference assembly, for example GRCh38".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let good = "node_id = \"DK-NGC\"\ncountry = \"DK\"\nassembly = \"GRCh38\"\n[reference]\nsource = \"ref.fa\"\n";
        std::fs::write(dir.path().join(CONFIG_FILE), good).unwrap();
        assert_eq!(NodeConfig::load(dir.path()).unwrap().node_id, "DK-NGC");
        std::fs::write(dir.path().join(CONFIG_FILE), format!("{good}colour = 1\n")).unwrap();
        let err = NodeConfig::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown field") && err.contains("oresund.toml"), "{err}");
        std::fs::write(dir.path().join(CONFIG_FILE), good.replace("\"DK\"", "\"Denmark\"")).unwrap();
        assert!(NodeConfig::load(dir.path()).unwrap_err().to_string().contains("ISO 3166-1"));
    }
}
