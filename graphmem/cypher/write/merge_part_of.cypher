// Segmentation: (Turn)-[:PART_OF]->(Episode). $rows: [{turn_id, episode_id}]
UNWIND $rows AS row
MATCH (t:Turn {id: row.turn_id})
MATCH (e:Episode {id: row.episode_id})
MERGE (t)-[:PART_OF]->(e)
