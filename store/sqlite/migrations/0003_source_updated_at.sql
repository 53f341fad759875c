-- 0003: the source's own time of a response's latest content.
--
-- Sources that update responses (Delighted's survey_response.updated) may
-- deliver the versions out of order, a retry of an older event arriving
-- after a newer one. When a source is configured with updated_at, ingest
-- keeps the content whose source time is the newest: 0 means the source
-- gave none, and the latest arrival wins as before.
ALTER TABLE responses ADD COLUMN source_updated_at INTEGER NOT NULL DEFAULT 0;
