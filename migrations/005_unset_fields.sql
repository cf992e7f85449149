-- Unset optional fields are omitted, not null (the reference makes them
-- optional strings): earlier builds stored documents' consentId, datasetId
-- and content, and assets' content, as null. Lists answer from this text.
UPDATE objects SET body = json_remove(body, '$.consentId')
  WHERE kind = 'document' AND json_type(body, '$.consentId') = 'null';
UPDATE objects SET body = json_remove(body, '$.datasetId')
  WHERE kind = 'document' AND json_type(body, '$.datasetId') = 'null';
UPDATE objects SET body = json_remove(body, '$.content')
  WHERE kind IN ('document', 'asset') AND json_type(body, '$.content') = 'null';
-- Earlier builds also stored integers sent as whole reals (30.0) as reals.
UPDATE objects
  SET body = json_set(body, '$.retentionInDays',
                      CAST(json_extract(body, '$.retentionInDays') AS INTEGER))
  WHERE kind IN ('document', 'dataset')
    AND json_type(body, '$.retentionInDays') = 'real';
UPDATE objects
  SET body = json_set(body, '$.width',
                      CAST(json_extract(body, '$.width') AS INTEGER))
  WHERE kind = 'model' AND json_type(body, '$.width') = 'real';
UPDATE objects
  SET body = json_set(body, '$.height',
                      CAST(json_extract(body, '$.height') AS INTEGER))
  WHERE kind = 'model' AND json_type(body, '$.height') = 'real';
