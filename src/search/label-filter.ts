/**
 * Google's product-label filter: an AND of OR-groups, each OR-group on one key, e.g.
 * `(color = red OR color = blue) AND brand = Google`. Errors name the position (1-based
 * character) and what was expected there. AND binds looser than OR, so parentheses around a
 * single-key OR-group are optional. Values may be double-quoted to hold spaces or
 * operators (`brand = "Acme Inc"`); `:` (the "has" operator of other Google filters) is
 * refused as Google refuses it.
 */
import { invalidArgument } from '../core/errors';
import type { KeyValue } from '../store/catalog-store';

export interface LabelFilter {
  /** Every group must match; a group matches a label with its key and one of its values. */
  groups: { key: string; values: string[] }[];
}

type Token = { kind: 'word' | 'string' | '=' | '(' | ')' | ':' | 'AND' | 'OR'; text: string; pos: number };

export function parseLabelFilter(text: string): LabelFilter | null {
  if (text.trim() === '') return null;
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const fail = (msg: string, t = peek()): never => {
    throw invalidArgument(`Invalid filter at position ${t ? t.pos + 1 : text.length + 1}: ${msg}.`);
  };
  const term = (): KeyValue => {
    const key = peek();
    if (!key || (key.kind !== 'word' && key.kind !== 'string')) fail('expected a label key');
    i++;
    const op = peek();
    if (op?.kind === ':') fail('the ":" operator is not supported; use "="');
    if (op?.kind !== '=') fail(`expected "=" after key "${key!.text}"`);
    i++;
    const value = peek();
    if (!value || (value.kind !== 'word' && value.kind !== 'string')) fail(`expected a value for key "${key!.text}"`);
    i++;
    return { key: key!.text, value: value!.text };
  };
  const group = (): { key: string; values: string[] } => {
    const open = peek()?.kind === '(';
    if (open) i++;
    const first = term();
    const values = [first.value];
    while (peek()?.kind === 'OR') {
      const orTok = peek()!;
      i++;
      const next = term();
      if (next.key !== first.key) fail(`OR can only combine values of one key ("${first.key}"), not "${next.key}"`, orTok);
      values.push(next.value);
    }
    if (open) {
      if (peek()?.kind !== ')') fail('expected ")"');
      i++;
    }
    return { key: first.key, values };
  };
  const groups = [group()];
  while (peek()?.kind === 'AND') {
    i++;
    groups.push(group());
  }
  if (i < tokens.length) fail(`unexpected "${tokens[i].text}"`);
  return { groups };
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '=' || c === '(' || c === ')' || c === ':') {
      out.push({ kind: c, text: c, pos: i++ });
    } else if (c === '"') {
      const start = i++;
      let s = '';
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        s += text[i++];
      }
      if (i >= text.length) throw invalidArgument(`Invalid filter at position ${start + 1}: unterminated quoted string.`);
      i++;
      out.push({ kind: 'string', text: s, pos: start });
    } else {
      const start = i;
      while (i < text.length && !/[\s=():"]/.test(text[i])) i++;
      const word = text.slice(start, i);
      out.push({ kind: word === 'AND' || word === 'OR' ? word : 'word', text: word, pos: start });
    }
  }
  return out;
}

/** Compiles a filter into a predicate over a product's labels. */
export function labelPredicate(filter: LabelFilter | null): (labels: readonly KeyValue[]) => boolean {
  if (!filter) return () => true;
  const groups = filter.groups.map((g) => ({ key: g.key, values: new Set(g.values) }));
  return (labels) => groups.every((g) => labels.some((l) => l.key === g.key && g.values.has(l.value)));
}
