//! A cohort filter resolved against the current catalog: its people part from memory, from the
//! people image on disk, or from the catalog (which then writes the image for the next process).

use std::sync::Arc;

use crate::cohort::{CohortFilter, CohortIndex, PreparedFilter};
use crate::error::NodeError;
use crate::fsutil;
use crate::node::Node;
use crate::people_image::{self, ImageError, ImageStamp, PeopleImage};
use crate::people_index::{PeopleIndex, Restriction};
use crate::phenotype_index::canonical_term;

impl Node {
    /// A prepared filter for the current catalog, from the cache when this filter was seen before.
    pub fn prepare_filter(&self, filter: &CohortFilter) -> Result<Arc<PreparedFilter>, NodeError> {
        let cohort = self.cohort()?;
        if let Some(found) = self.filter_cache_get(filter, cohort.generation) {
            return Ok(found);
        }
        // Only a filter with a people part reads the individuals and (terms, grants) the ontology.
        let restriction = if !filter.needs_people() {
            Restriction::default()
        } else if let Some(restriction) = self.restrict_with_image(&cohort, filter)? {
            restriction
        } else {
            let hpo = if filter.needs_ontology() { self.hpo()? } else { None };
            let people = self.people(&cohort)?;
            let restriction = people.restrict(filter, hpo)?;
            people.offer_once(|people| self.write_people_image(&cohort, people));
            restriction
        };
        let prepared = Arc::new(cohort.prepare(filter, restriction)?);
        self.filter_cache_put(filter, prepared.clone());
        Ok(prepared)
    }

    /// The people part of `filter` from a current people image; `None`: ask the catalog (no image,
    /// a grant in the filter, or the people already read in this process).
    fn restrict_with_image(
        &self,
        cohort: &CohortIndex,
        filter: &CohortFilter,
    ) -> Result<Option<Restriction>, NodeError> {
        if filter.has_grants() || cohort.people_loaded() {
            return Ok(None);
        }
        let Some(image) = cohort.people_image(|| self.read_people_image(cohort.generation)) else { return Ok(None) };
        // Only an HPO id the image does not hold needs the ontology: an alternative id, a term
        // nobody here has, or an unknown one.
        let canonical = |id: &str| -> Result<Option<String>, NodeError> {
            let hpo = if id.starts_with("HP:") { self.hpo()? } else { None };
            Ok(canonical_term(id, hpo))
        };
        match image.restrict(filter, canonical)? {
            Ok(restriction) => Ok(Some(restriction)),
            Err(e) => {
                tracing::warn!(path = %self.layout.people_image().display(), "people image not used: {e}");
                Ok(None)
            }
        }
    }

    fn image_stamp(&self, generation: u64) -> Result<ImageStamp, NodeError> {
        Ok(ImageStamp { generation, ontology: self.hpo.stamp()? })
    }

    fn read_people_image(&self, generation: u64) -> Option<PeopleImage> {
        let path = self.layout.people_image();
        let bytes = std::fs::read(&path).ok()?;
        match PeopleImage::decode(bytes, &self.image_stamp(generation).ok()?) {
            Ok(image) => Some(image),
            Err(ImageError::Stale) => None,
            Err(e) => {
                tracing::warn!(path = %path.display(), "people image not used: {e}");
                None
            }
        }
    }

    /// Writes the image of `people`, read for `cohort`'s generation. A node directory this
    /// process cannot write to only loses the speed-up.
    fn write_people_image(&self, cohort: &CohortIndex, people: &PeopleIndex) {
        let write = || -> Result<(), NodeError> {
            let bytes = people_image::encode(&self.image_stamp(cohort.generation)?, people, self.hpo()?);
            fsutil::write_secret(&self.layout.people_image(), &bytes)?;
            // A commit since the generation was read may be in what was written, or missing from
            // it; a withdrawal's deletion may have come before this write.
            if self.store.generation()? != cohort.generation {
                self.remove_people_image()?;
            }
            Ok(())
        };
        if let Err(e) = write() {
            tracing::debug!("people image not written: {e}");
        }
    }

    /// Deletes the people image: a withdrawal does after its catalog commit, so that no number of
    /// a withdrawn person stays on disk in it.
    pub(crate) fn remove_people_image(&self) -> Result<(), NodeError> {
        let path = self.layout.people_image();
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(NodeError::io(&path, e)),
            _ => Ok(()),
        }
    }
}
