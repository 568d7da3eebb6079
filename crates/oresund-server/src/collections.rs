//! `/datasets` and `/cohorts`: the collections a caller may see (one cohort per dataset), as
//! Beacon v2 collections responses.

use oresund_access::{Caller, Granularity};
use serde_json::{Value, json};

use crate::entities::{COHORT, DATASET, EntryType};
use crate::error::BeaconError;
use crate::request::BeaconRequest;
use crate::response::{response_meta, shown};
use crate::state::AppState;

/// Lists datasets (`entity` = DATASET) or cohorts (COHORT); `only` selects one by id.
pub fn list(
    app: &AppState,
    caller: &Caller,
    request: &BeaconRequest,
    entity: EntryType,
    only: Option<&str>,
) -> Result<Value, BeaconError> {
    let cohort = app.node.cohort().map_err(BeaconError::from)?;
    let created = app.node.datasets().map_err(BeaconError::from)?;
    if let Some(id) = only.filter(|id| !cohort.datasets.contains_key(*id)) {
        return Err(BeaconError::not_found(format!("no {} {id:?} on this node; see /{}", entity.id, entity.path)));
    }
    let mut collections = Vec::new();
    for (id, files) in &cohort.datasets {
        if only.is_some_and(|o| o != id) {
            continue;
        }
        // A dataset is listed to whoever may see anything of it.
        let granted = app.beacon.granted(caller, id, Some(Granularity::Record));
        if granted == Granularity::None {
            if only.is_some() {
                return Err(BeaconError::forbidden(format!("{} {id:?} is not visible to this caller", entity.id)));
            }
            continue;
        }
        let info = app.beacon.datasets.get(id);
        let name = info.and_then(|d| d.name.clone()).unwrap_or_else(|| id.clone());
        let description = info.and_then(|d| d.description.clone());
        let members = cohort.members(std::slice::from_ref(id));
        // At CONTROLLED the cohort is the people the caller's grants reach, as in every answer there.
        let controlled = caller.tier(id) == oresund_access::Tier::Controlled;
        let size = match caller.reach(id).filter(|r| controlled && **r != oresund_access::Reach::Everyone) {
            Some(reach) => members.intersection_len(&app.node.people(&cohort)?.consenting(reach, app.node.hpo()?)),
            None => members.len(),
        };
        let size = shown(&app.beacon, size, controlled);
        let security = app.beacon.policy(id).security_level().as_str();
        let entry = if entity.id == DATASET.id {
            let created = created.iter().find(|d| &d.id == id).map(|d| d.created.clone());
            // No `info`: the model's `$ref` for it (`../common/info.json`) does not resolve.
            let mut entry = json!({"id": id, "name": name, "version": format!("{} files", files.len())});
            if let Some(description) = description {
                entry["description"] = json!(description);
            }
            if let Some(created) = created {
                entry["createDateTime"] = json!(created);
            }
            entry
        } else {
            let mut entry = json!({
                "id": id,
                "name": format!("Cohort of dataset {name}"),
                "cohortType": "study-defined",
                "info": {"securityLevel": security, "dataset": id},
            });
            // The size is a count of people: for callers who may see counts of this dataset.
            if app.beacon.granted(caller, id, Some(Granularity::Count)) >= Granularity::Count {
                entry["cohortSize"] = json!(size.value);
                entry["info"]["countPrecision"] = json!(size.precision());
            }
            entry
        };
        collections.push(entry);
    }
    let meta =
        response_meta(&app.beacon, if entity.id == COHORT.id { COHORT } else { DATASET }, Granularity::Record, request);
    let total = collections.len();
    let page: Vec<Value> = collections.into_iter().skip(request.skip).take(request.limit).collect();
    Ok(json!({
        "meta": meta,
        "responseSummary": {"exists": total > 0, "numTotalResults": total},
        "response": {"collections": page},
    }))
}
