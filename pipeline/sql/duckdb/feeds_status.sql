-- Feed health for analysts and `newsflow feeds status --warehouse`: worst first.
SELECT url, name, health, last_status, last_reason, consecutive_errors, last_success_at,
       next_poll_at, parked, current_url
FROM feeds
ORDER BY CASE health WHEN 'parked' THEN 0 WHEN 'failing' THEN 1 WHEN 'new' THEN 2 ELSE 3 END,
         consecutive_errors DESC, url;
