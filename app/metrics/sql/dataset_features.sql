SELECT slug, feature_count FROM published_datasets
