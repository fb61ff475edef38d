package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newDocsCommand writes the man pages and shell completions that packages
// install (scripts/release), from the commands themselves so they never
// drift from --help. Hidden: not for users.
func newDocsCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "__docs DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeDocs(cmd.Root(), args[0])
		},
	}
}

// writeDocs writes DIR/man/*.1 and DIR/completions/{paperfs.bash,_paperfs,
// paperfs.fish}. Man page dates follow $SOURCE_DATE_EPOCH when set.
func writeDocs(root *cobra.Command, dir string) error {
	man := filepath.Join(dir, "man")
	comp := filepath.Join(dir, "completions")
	for _, d := range []string{man, comp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	root.DisableAutoGenTag = true // its date would differ in every build
	root.InitDefaultVersionFlag()
	escapeForMarkdown(root)
	v := version
	if v == "" {
		v = "devel"
	}
	header := &doc.GenManHeader{Title: "PAPERFS", Section: "1", Source: "paperfs " + v, Manual: "paperfs manual"}
	if err := doc.GenManTree(root, header, man); err != nil {
		return fmt.Errorf("man pages in %s: %w", man, err)
	}
	for name, gen := range map[string]func(string) error{
		"paperfs.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
		"_paperfs":     root.GenZshCompletionFile,
		"paperfs.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
	} {
		if err := gen(filepath.Join(comp, name)); err != nil {
			return fmt.Errorf("completion %s: %w", name, err)
		}
	}
	return nil
}

// htmlTag is what Markdown takes for an HTML tag: <tag>, </b>.
var htmlTag = regexp.MustCompile(`<([A-Za-z/])`)

// escapeForMarkdown keeps "tags/<tag>/" in the man pages: they are made
// from Markdown, where <tag> is an HTML tag and would vanish.
func escapeForMarkdown(c *cobra.Command) {
	c.Long = htmlTag.ReplaceAllString(c.Long, `\<$1`)
	c.Short = htmlTag.ReplaceAllString(c.Short, `\<$1`)
	for _, sub := range c.Commands() {
		escapeForMarkdown(sub)
	}
}
