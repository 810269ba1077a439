// Package topicmodel is the learned part of topic tagging: the features of a
// German news text (stemmed words, acronyms, parts of hyphenated words and
// character 4- and 5-grams that let compounds meet their parts) and a
// one-vs-rest logistic regression over them, trained by
// articles/internal/traintopics from the corpus train split and stored as the
// text file articles/model/topics.tsv (see Write for the format).
package topicmodel
