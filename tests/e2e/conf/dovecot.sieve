require ["vnd.dovecot.filter", "fileinto", "mailbox"];

# backstop adds "X-Backstop: <verdict>; ..." to bounces
filter "backstop" "filter";

if header :matches "X-Backstop" "backscatter;*" {
  fileinto :create "Junk";
  stop;
}
