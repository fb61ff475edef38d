package extract

import "testing"

func TestIdentifiers(t *testing.T) {
	tests := []struct {
		text, doi, arxiv string
		version          int
	}{
		{"doi:10.1145/3025453.3025912.", "10.1145/3025453.3025912", "", 0},
		{"https://doi.org/10.1000/ABC.def-1)", "10.1000/abc.def-1", "", 0},
		{"DOI: 10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-0", "10.1002/(sici)1097-4571(199806)49:8", "", 0},
		{"(see 10.1109/5.771073),", "10.1109/5.771073", "", 0},
		{"available at 10.1145/\n3025453.3025912 today", "10.1145/3025453.3025912", "", 0},
		{"http://dx.doi.org/10.1007/978-3-\n319-24277-4_9", "10.1007/978-3-319-24277-4_9", "", 0},
		{"arXiv:1706.03762v5 [cs.CL] 6 Dec 2017", "", "1706.03762", 5},
		{"ARXIV : 1706.\n03762", "", "1706.03762", 0},
		{"see https://arxiv.org/abs/2101.00001v12", "", "2101.00001", 12},
		{"arXiv:0704.0001", "", "0704.0001", 0},
		{"arXiv:hep-th/9901001v2 24 Jan 1999", "", "hep-th/9901001", 2},
		{"math.GT/0309136", "", "math.GT/0309136", 0},
		{"arXiv:1713.12345 is not a month", "", "", 0},
		{"arXiv:1501.1234 has too few digits after 2014", "", "", 0},
		{"the value 1706.03762 alone is just a number", "", "", 0},
		{"10.1145 is a version, not a DOI", "", "", 0},
		{"https://doi.org/10.1145/3290605.3300233.For more information", "10.1145/3290605.3300233", "", 0},
		{"doi: 10.1145/123.\nFor more, see", "10.1145/123", "", 0},
		{"(DOI 10.1145/3290605.3300233.for more)", "10.1145/3290605.3300233", "", 0},
		{"10.1145/3290605.3300233.In: Proc. CHI", "10.1145/3290605.3300233", "", 0},
		{"doi:10.1111/j.1365-2125.2009.03405.x.", "10.1111/j.1365-2125.2009.03405.x", "", 0},
		{"doi:10.1093/acprof:oso/9780199234660.001.0001 and more", "10.1093/acprof:oso/9780199234660.001.0001", "", 0},
		{"doi:10.1038/nphys.1170.See also", "10.1038/nphys.1170", "", 0},
		{"doi:10.1016/j.cell.2009.01.042", "10.1016/j.cell.2009.01.042", "", 0},
		{"both arXiv:1912.01703 and doi 10.5555/12345678", "10.5555/12345678", "1912.01703", 0},
	}
	for _, tt := range tests {
		doi, arxiv, v := Identifiers(tt.text)
		if doi != tt.doi || arxiv != tt.arxiv || v != tt.version {
			t.Errorf("Identifiers(%q) = %q, %q, %d; want %q, %q, %d", tt.text, doi, arxiv, v, tt.doi, tt.arxiv, tt.version)
		}
	}
}

func TestNormalizeDOI(t *testing.T) {
	tests := map[string]string{
		"https://doi.org/10.1038/NATURE14539": "10.1038/nature14539",
		"doi:10.1038/nature14539;":            "10.1038/nature14539",
		"10.1038%2Fnature14539":               "10.1038/nature14539",
		"10.12/x":                             "",
		"no doi":                              "",
		"10.1234/":                            "",
	}
	for in, want := range tests {
		if got := NormalizeDOI(in); got != want {
			t.Errorf("NormalizeDOI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTitleFromFileName(t *testing.T) {
	tests := map[string]string{
		"1706.03762v5.pdf":             "1706.03762v5",
		"paper (3).pdf":                "paper (3)",
		"/home/u/Downloads/a_b__c.PDF": "a b c",
		`C:\papers\Deep_Learning.pdf`:  "Deep Learning",
		"Attention%20Is%20All.pdf":     "Attention Is All",
		"notes.txt":                    "notes.txt",
		".pdf":                         "untitled",
		"":                             "untitled",
	}
	for in, want := range tests {
		if got := TitleFromFileName(in); got != want {
			t.Errorf("TitleFromFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFileNameIDs(t *testing.T) {
	tests := []struct {
		name, doi, arxiv string
		version          int
	}{
		{"1706.03762v5.pdf", "", "1706.03762", 5},
		{"/x/2101.00001.pdf", "", "2101.00001", 0},
		{"hep-th9901001.pdf", "", "hep-th/9901001", 0},
		{"hep-th_9901001v3.pdf", "", "hep-th/9901001", 3},
		{"10.1145_3025453.3025912.pdf", "10.1145/3025453.3025912", "", 0},
		{"paper (3).pdf", "", "", 0},
		{"1999.12345.pdf", "", "", 0}, // month 99
	}
	for _, tt := range tests {
		doi, arxiv, v := fileNameIDs(tt.name)
		if doi != tt.doi || arxiv != tt.arxiv || v != tt.version {
			t.Errorf("fileNameIDs(%q) = %q, %q, %d; want %q, %q, %d", tt.name, doi, arxiv, v, tt.doi, tt.arxiv, tt.version)
		}
	}
}

func TestArxivYear(t *testing.T) {
	for id, want := range map[string]int{"1706.03762": 2017, "0704.0001": 2007, "hep-th/9901001": 1999, "math.GT/0309136": 2003} {
		if got := arxivYear(id); got != want {
			t.Errorf("arxivYear(%q) = %d, want %d", id, got, want)
		}
	}
}

func TestSimilarity(t *testing.T) {
	if got := normalize("  Deep  Learning: A Survey!"); got != "deep learning a survey" {
		t.Errorf("normalize = %q", got)
	}
	if s := Similarity("kitten", "sitting"); s < 0.57 || s > 0.58 {
		t.Errorf("Similarity(kitten, sitting) = %v, want 1-3/7", s)
	}
	if Similarity("", "") != 1 {
		t.Error("similarity of empty strings should be 1")
	}
}
