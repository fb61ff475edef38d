package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Config is the user's config file, $XDG_CONFIG_HOME/paperfs/config.json.
// Environment variables override it; flags override both.
type Config struct {
	Library string `json:"library,omitempty"`
	DataDir string `json:"data_dir,omitempty"`
	Mount   struct {
		Mountpoint    string `json:"mountpoint,omitempty"`
		NoPassthrough bool   `json:"no_passthrough,omitempty"`
		AllowOther    bool   `json:"allow_other,omitempty"`
		// NoNotifications keeps refusals off the desktop (see notify.go).
		NoNotifications bool `json:"no_notifications,omitempty"`
	} `json:"mount"`
	// DeviceName names this device in the devices collection, status and
	// conflicts (default: what `paperfs sync --device-name` set, else the
	// host name).
	DeviceName string `json:"device_name,omitempty"`
	MongoDB    struct {
		URI      string `json:"uri,omitempty"`
		Database string `json:"database,omitempty"`
	} `json:"mongodb"`
	// Lookup configures online lookups; "lookup": false turns them off.
	Lookup LookupConfig `json:"lookup"`
	WebDAV WebDAVConfig `json:"webdav"`
	// Subscribe is the part of the personal library this device holds
	// (cmd_subscribe.go); a shared library's is in its entry.
	Subscribe SubscribeConfig `json:"subscribe,omitzero"`
	Import    struct {
		// NamePattern names imported PDFs in the library folder
		// (library.FileName), e.g. "{year}/{author} - {title}".
		NamePattern string `json:"name_pattern,omitempty"`
		// OCR: false keeps scanned PDFs from being read by OCR (pdftoppm
		// and tesseract, used when installed).
		OCR *bool `json:"ocr,omitempty"`
	} `json:"import"`
	// Libraries are the libraries shared with others (a lab's, a reading
	// group's) that this device serves beside the personal one, each
	// with its own folder, store and server (see libraries.go).
	Libraries []LibraryConfig `json:"libraries,omitempty"`

	// Member is the name your changes to the library go by on every
	// device (paperfs log, the server's papers documents); default: the
	// MongoDB URI's user, else the device name (see member.go).
	Member string `json:"member,omitempty"`

	path string // where it was read from, "" if none
	// shared is the entry of Libraries this Config was made for (see
	// forLibrary); nil for the personal library.
	shared *LibraryConfig
}

func configPath() string {
	if p := os.Getenv("PAPERFS_CONFIG"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "paperfs", "config.json")
}

// loadConfig reads the config file (a missing one is fine) and applies the
// environment. A config file holding credentials that others can read is
// refused, as ssh refuses a readable private key.
func loadConfig() (*Config, error) {
	cfg := &Config{}
	path := configPath()
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("config %s: %w", path, err)
		default:
			if err := json.Unmarshal(b, cfg); err != nil {
				return nil, fmt.Errorf("config %s: %w", path, err)
			}
			cfg.path = path
			if err := checkLibraries(cfg.Libraries); err != nil {
				return nil, fmt.Errorf("config %s: %w", path, err)
			}
			if cfg.MongoDB.URI != "" || cfg.Lookup.SemanticScholarKey != "" || cfg.WebDAV.PasswordHash != "" || librariesHoldURI(cfg.Libraries) {
				st, err := os.Stat(path)
				if err != nil {
					return nil, err
				}
				if st.Mode().Perm()&0o077 != 0 {
					return nil, fmt.Errorf("config %s holds credentials (MongoDB, Semantic Scholar key, the WebDAV password's hash) but is readable by others (mode %04o); fix it with: chmod 600 %s",
						path, st.Mode().Perm(), path)
				}
			}
		}
	}
	if v := os.Getenv("PAPERFS_LIBRARY"); v != "" {
		cfg.Library = v
	}
	if v := os.Getenv("PAPERFS_DATA_DIR"); v != "" {
		cfg.DataDir = v
	}
	if v := os.Getenv("PAPERFS_MONGODB_URI"); v != "" {
		cfg.MongoDB.URI = v
	}
	if v := os.Getenv("PAPERFS_MONGODB_DATABASE"); v != "" {
		cfg.MongoDB.Database = v
	}
	if os.Getenv("PAPERFS_OFFLINE") == "1" {
		cfg.Lookup.Off = true
	}
	if v := os.Getenv("PAPERFS_LOOKUP_EMAIL"); v != "" {
		cfg.Lookup.Email = v
	}
	if v := os.Getenv("PAPERFS_SEMANTIC_SCHOLAR_KEY"); v != "" {
		cfg.Lookup.SemanticScholarKey = v
	}
	if cfg.MongoDB.Database == "" {
		cfg.MongoDB.Database = "paperfs"
	}
	return cfg, nil
}

// libraryDir resolves and checks the library folder.
func (c *Config) libraryDir() (string, error) {
	if c.Library == "" {
		return "", fmt.Errorf("no library folder: pass --library DIR, set PAPERFS_LIBRARY, or put \"library\" in %s", configPath())
	}
	abs, err := filepath.Abs(expandHome(c.Library))
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("library folder %s: %w", abs, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("library folder %s is not a directory", abs)
	}
	return abs, nil
}

// dataDir is where this device keeps the library's database: the user's
// data directory, one folder per library, never inside the library folder
// (a cloud drive cannot merge a database file, and locks it while open).
func (c *Config) dataDir(library string) (string, error) {
	dir := c.DataDir
	if c.shared != nil {
		var err error
		if dir, err = c.sharedDataDir(); err != nil {
			return "", err
		}
	}
	if dir == "" {
		base, err := dataHome()
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256([]byte(library))
		dir = filepath.Join(base, "paperfs", "libraries", filepath.Base(library)+"-"+hex.EncodeToString(sum[:4]))
	}
	dir, err := filepath.Abs(expandHome(dir))
	if err != nil {
		return "", err
	}
	if inside(dir, library) {
		return "", fmt.Errorf("data directory %s is inside the library folder %s: the database must live outside it (a cloud drive cannot merge it)", dir, library)
	}
	return dir, nil
}

// dataHome is $XDG_DATA_HOME, or its default.
func dataHome() (string, error) {
	if base := os.Getenv("XDG_DATA_HOME"); base != "" {
		return base, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: set XDG_DATA_HOME or PAPERFS_DATA_DIR")
	}
	return filepath.Join(home, ".local", "share"), nil
}

func inside(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// realPath is p with symlinks resolved, or absolute if it cannot be (it
// does not exist yet): what two paths are compared by.
func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return absPath(p)
}

// LookupConfig is the "lookup" entry of the config file: false (no online
// lookups), true or absent (the defaults), or an object.
type LookupConfig struct {
	Off bool `json:"off,omitempty"`
	// Email is sent to Crossref as a contact (its polite pool).
	Email string `json:"email,omitempty"`
	// SemanticScholarKey raises Semantic Scholar's rate limit; keep the
	// config file private (chmod 600) or use $PAPERFS_SEMANTIC_SCHOLAR_KEY.
	SemanticScholarKey string `json:"semantic_scholar_key,omitempty"`
	// Services to search titles at, in order (default dblp, crossref,
	// semanticscholar).
	Services []string `json:"services,omitempty"`
	// Base URLs, for a mirror or a proxy.
	CrossrefURL        string `json:"crossref_url,omitempty"`
	ArXivURL           string `json:"arxiv_url,omitempty"`
	DBLPURL            string `json:"dblp_url,omitempty"`
	SemanticScholarURL string `json:"semanticscholar_url,omitempty"`
}

func (c *LookupConfig) UnmarshalJSON(b []byte) error {
	var on bool
	if err := json.Unmarshal(b, &on); err == nil {
		*c = LookupConfig{Off: !on}
		return nil
	}
	type plain LookupConfig
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return fmt.Errorf("\"lookup\" must be false, true or an object: %w", err)
	}
	for _, s := range c.Services {
		switch s {
		case "dblp", "crossref", "semanticscholar":
		default:
			return fmt.Errorf("\"lookup\": unknown service %q in \"services\" (dblp, crossref, semanticscholar)", s)
		}
	}
	return nil
}

// setConfigKey sets the top-level entry key of the config file at path to
// value, keeping every other entry as written (the environment's settings
// stay out of it); the file is written whole, mode 0600.
func setConfigKey(path, key string, value any) error {
	if path == "" {
		return errors.New("no config file location: set PAPERFS_CONFIG or HOME")
	}
	entries := map[string]json.RawMessage{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("config %s: %w", path, err)
	default:
		if err := json.Unmarshal(b, &entries); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	}
	v, err := json.Marshal(value)
	if err != nil {
		return err
	}
	entries[key] = v
	out, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(append(out, '\n')); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// WebDAVConfig is the "webdav" entry of the config file.
type WebDAVConfig struct {
	Addr string `json:"addr,omitempty"`
	User string `json:"user,omitempty"`
	// PasswordHash is the bcrypt hash of the password (paperfs serve
	// webdav --set-password); the password is never stored.
	PasswordHash string `json:"password_bcrypt,omitempty"`
	Cert         string `json:"cert,omitempty"`
	Key          string `json:"key,omitempty"`
}
