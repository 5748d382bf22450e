"""Everything the product writes: part files, the resume journal, staging and atomic publish, the
manifest, the data dictionary and lineage, to a folder or an object store. The one layer where a write can
half-happen, and the one that makes sure none is ever seen half-done."""
