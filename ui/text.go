package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
)

// Every string the screens show comes from translations/<lang>.json (the go-i18n flat format that
// Fyne's lang package reads too). Fyne's lang follows the system locale for the whole process;
// a kiosk switches language per citizen, so the lookup is ours.

//go:embed translations/*.json
var translationFS embed.FS

// Languages the kiosk speaks, Chinese first.
var Languages = []string{"zh", "en"}

type texts map[string]map[string]string

func loadTexts() (texts, error) {
	t := texts{}
	for _, l := range Languages {
		data, err := translationFS.ReadFile("translations/" + l + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("translations/%s.json: %w", l, err)
		}
		t[l] = m
	}
	return t, nil
}

// get returns the text for key in lang, filled with data ({{.N}} etc.). A key missing in lang
// falls back to Chinese, then to the key itself, so a gap shows up on screen instead of a blank.
func (t texts) get(lang, key string, data map[string]any) string {
	s, ok := t[lang][key]
	if !ok {
		if s, ok = t["zh"][key]; !ok {
			return key
		}
	}
	if data == nil || !strings.Contains(s, "{{") {
		return s
	}
	tpl, err := template.New(key).Option("missingkey=error").Parse(s)
	if err != nil {
		return s
	}
	var b strings.Builder
	if err := tpl.Execute(&b, data); err != nil {
		return s
	}
	return b.String()
}

// has reports whether lang has its own text for key (no fallback).
func (t texts) has(lang, key string) bool {
	_, ok := t[lang][key]
	return ok
}
