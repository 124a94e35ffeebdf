// The chart tests trust deploy/test/helm-render.ts; these pin its behaviour to
// Go template/Helm semantics on the constructs the chart uses, and show that it
// refuses what it does not implement instead of guessing.
import { describe, expect, it } from 'vitest';
import { ChartFailure, renderTemplate } from './helm-render.js';

const root = {
  Values: {
    name: 'parley',
    empty: '',
    big: 1000000,
    port: 8080,
    map: { b: 2, a: 1 },
    list: ['x', 'y'],
    emptyMap: {},
    nested: { on: true },
  },
  Chart: { Name: 'parley', Version: '0.1.0', AppVersion: '0.1.0' },
  Release: { Name: 'rel', Namespace: 'ns', Service: 'Helm' },
};
const render = (src: string, unknownConditions: 'true' | 'false' = 'true') =>
  renderTemplate(src, root, { unknownConditions });

describe('helm-render (the tests’ stand-in for helm template)', () => {
  it('trims whitespace on the marked side only, newlines included, as Go does', () => {
    expect(render('a  {{- "b" }}  c')).toBe('ab  c');
    expect(render('a  {{ "b" -}}  \n c')).toBe('a  bc');
    expect(render('x:\n  {{- if true }}\n  y: 1\n  {{- end }}\n')).toBe('x:\n  y: 1\n');
    expect(render('{{/* a comment */}}k: v')).toBe('k: v');
  });

  it('chooses if / else if / else branches from values, with Go truthiness', () => {
    const src = '{{ if .Values.empty }}A{{ else if .Values.emptyMap }}B{{ else if .Values.list }}C{{ else }}D{{ end }}';
    expect(render(src)).toBe('C');
    expect(render('{{ if not .Values.empty }}yes{{ end }}')).toBe('yes');
    expect(render('{{ if and .Values.name (not .Values.nested.on) }}A{{ else }}B{{ end }}')).toBe('B');
    expect(render('{{ if or .Values.empty .Values.port }}A{{ end }}')).toBe('A');
    expect(render('{{ if eq .Values.name "parley" }}A{{ end }}')).toBe('A');
  });

  it('prints a missing key as empty but fails on a field of nothing, like Helm', () => {
    expect(render('[{{ .Values.absent }}]')).toBe('[]');
    expect(() => render('{{ .Values.absent.deeper }}')).toThrow(/nil pointer/);
  });

  it('prints values numbers as Helm does (float64, %g) and compares only like types', () => {
    expect(render('{{ .Values.port }} {{ .Values.big }} {{ .Values.big | quote }} {{ int .Values.big }}')).toBe(
      '8080 1e+06 "1e+06" 1000000',
    );
    expect(render('{{ if gt (int .Values.port) 1 }}more{{ end }}')).toBe('more');
    expect(() => render('{{ if gt .Values.port 1 }}more{{ end }}')).toThrow(/incompatible types/);
    expect(render('{{ add .Values.port 2 }}')).toBe('8082');
  });

  it('ranges over maps in sorted key order and over lists', () => {
    expect(render('{{ range $k, $v := .Values.map }}{{ $k }}={{ $v }};{{ end }}')).toBe('a=1;b=2;');
    expect(render('{{ range $v := .Values.list }}[{{ $v }}]{{ end }}')).toBe('[x][y]');
    expect(render('{{ range $v := .Values.emptyMap }}never{{ end }}done')).toBe('done');
  });

  it('expands defines with include and indents with nindent, with $ and . as the context', () => {
    const src = '{{- define "labels" -}}\na: {{ .Values.name }}\nb: {{ $.Release.Name }}\n{{- end }}\nlabels:\n  {{- include "labels" . | nindent 2 }}';
    // The newline after the define's {{- end }} is kept, as in Go.
    expect(render(src)).toBe('\nlabels:\n  a: parley\n  b: rel');
    expect(render('{{ toYaml .Values.map | indent 2 }}|{{ toYaml .Values.emptyMap }}')).toBe('  b: 2\n  a: 1|{}');
  });

  it('supports the string functions the chart uses', () => {
    expect(render('{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 5 | trimSuffix "-" }}')).toBe('rel-p');
    expect(render('{{ .Values.empty | default .Chart.Name }} {{ "a+b" | replace "+" "_" }} {{ "x" | b64enc }}')).toBe('parley a_b eA==');
    expect(render('{{ if contains "par" .Values.name }}yes{{ end }}')).toBe('yes');
    expect(render('{{ $x := "v" }}{{ $x = "w" }}{{ $x }}')).toBe('w');
  });

  it('stops with the chart’s own message on fail and required', () => {
    expect(() => render('{{ fail "no database" }}')).toThrow(ChartFailure);
    expect(() => render('{{ required "name it" .Values.empty }}')).toThrow(/name it/);
    expect(render('{{ required "name it" .Values.name }}')).toBe('parley');
  });

  it('renders lookups and random values as placeholders and lets the caller pick unknown branches', () => {
    const src = '{{ $s := lookup "v1" "Secret" "ns" "x" }}{{ if $s }}kept {{ index $s "data" "k" }}{{ else }}new {{ randAlphaNum 8 | b64enc }}{{ end }}';
    expect(render(src, 'true')).toMatch(/^kept tpl-[0-9a-f]{8}$/);
    expect(render(src, 'false')).toMatch(/^new tpl-[0-9a-f]{8}$/);
    // and/or decide without the unknown when an earlier argument settles it.
    expect(render('{{ if and .Values.empty (lookup "v1" "Secret" "ns" "x") }}A{{ else }}B{{ end }}', 'true')).toBe('B');
  });

  it('refuses constructs and functions it does not implement', () => {
    expect(() => render('{{ with .Values.map }}{{ .a }}{{ end }}')).toThrow(/unsupported/);
    expect(() => render('{{ range .Values.list }}{{ . }}{{ end }}')).toThrow(/unsupported/);
    expect(() => render('{{ tpl "x" . }}')).toThrow(/unsupported function/);
    expect(() => render('{{ .Values.map }}')).toThrow(/toYaml/);
    expect(() => render('{{ if true }}open')).toThrow(/unterminated/);
  });
});
