"""Getting web pages in: WARC reading, HTML decoding, main-text extraction, crawling."""
