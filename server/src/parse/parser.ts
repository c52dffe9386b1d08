/**
 * tree-sitter C front end. One Parser per process (tree-sitter parsers are not re-entrant,
 * and the server and CLI are single-threaded). The native N-API binding is used: see README.
 */
import Parser = require('tree-sitter');
// tree-sitter-c ships no type declarations; it is a tree-sitter Language object.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const C: Parser.Language = require('tree-sitter-c');

export type Tree = Parser.Tree;
export type SyntaxNode = Parser.SyntaxNode;

let parser: Parser | undefined;

function getParser(): Parser {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(C);
  }
  return parser;
}

/**
 * Parse C text. Never throws on bad input: tree-sitter returns a tree with ERROR nodes.
 * `previous`, when given, must already have had `tree.edit()` applied for the change.
 */
export function parseC(text: string, previous?: Tree): Tree {
  // The native binding reads strings in chunks; very long inputs go through a callback.
  return getParser().parse(text, previous, { bufferSize: Math.max(32 * 1024, text.length * 2 + 1) });
}
