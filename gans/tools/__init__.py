"""The programs users run beside train.py and evaluate.py: the recipe study (`sweep`), the results
pages (`report`), samples of a trained run (`sample`) and the evaluator classifiers
(`train_evaluator`), with their command-line convention (`cli`)."""
