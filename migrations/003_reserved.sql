-- Reserved: this version belongs to a schema change made alongside; it changes nothing here.
SELECT 1;
