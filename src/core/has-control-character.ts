// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above, less tab, line feed and carriage return
const CONTROL_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * True when `text` holds a C0 control character or DEL. Ids, feature names,
 * classes and category values never do: PostgreSQL refuses NUL in text and
 * JSON, and the others only hide what a value is. Free text may keep tabs
 * and line breaks (`allowLineBreaks`).
 */
export function hasControlCharacter(text: string, allowLineBreaks = false): boolean {
  return (allowLineBreaks ? CONTROL_BUT_LINE_BREAKS : CONTROL).test(text);
}
