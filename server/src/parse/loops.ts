/**
 * The kernel's loop macros (`list_for_each_entry(pos, head, member) body`, `for_each_sg(...)`,
 * `skb_queue_walk(...)`): tree-sitter reads one as a call statement followed by the body. The
 * lowering makes that pair a loop; this file says which pairs are one.
 */
import type { SyntaxNode } from './parser';

/** Names of loop macros (include/linux/list.h, scatterlist.h, skbuff.h, xarray.h, cpumask.h...). */
export const LOOP_MACRO =
  /(^|_)for_each(_|$)|^list_for_each|^hlist_for_each|^for_each|_foreach(_|$)|^skb_queue_walk|^skb_walk_frags$|^skb_list_walk_safe$/;

/**
 * When `stmt` is the head of a loop macro (an expression_statement whose call names a loop macro
 * and whose `;` is not in the text: MISSING, or put there by the sanitizer in a blank), the call;
 * otherwise undefined. The loop's body is the next statement.
 */
export function loopMacroCall(stmt: SyntaxNode): SyntaxNode | undefined {
  if (stmt.type !== 'expression_statement') return undefined;
  const call = stmt.firstNamedChild;
  if (!call || call.type !== 'call_expression') return undefined;
  const fn = call.childForFieldName('function');
  if (!fn || fn.type !== 'identifier' || !LOOP_MACRO.test(fn.text)) return undefined;
  const semi = stmt.lastChild;
  // node.text reads the original text (parser.ts): a sanitizer's `;` reads as the blank it replaced
  if (!semi || semi.type !== ';' || !(semi.isMissing || semi.text !== ';')) return undefined;
  return call;
}
